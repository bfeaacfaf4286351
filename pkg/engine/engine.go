// Package engine is what faas does: deploy, invoke, roll back, remove and
// account for functions. It neither parses flags nor prints; the commands
// under pkg/cmd call it and show what it returns.
package engine

import (
	"context"
	"crypto/rand"
	"os"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// Engine ties the store to the providers. The local command line has one
// unscoped engine; `faas serve` has a scoped view per token (As).
type Engine struct {
	*core
	// Owner is recorded on what this engine creates ("" for the local user).
	Owner string
	// Scoped engines see and touch only their owner's functions and jobs.
	Scoped bool
}

// core is what every view of an engine shares.
type core struct {
	Home  string
	store Store
	Now   func() time.Time

	provMu    sync.Mutex
	providers map[string]provider.Provider
	override  provider.Provider

	settingsMu     sync.Mutex
	settingsLoaded bool
	settingsStamp  time.Time
	settingsRead   time.Time
	settings       billing.Settings
	settingsErr    error
	// stored are the settings as stored, read with settings: providers
	// that take settings (provider.Configurable) get them at a launch.
	stored map[string]string

	secrets sealer
	builder Builder
	// cluster places invocations on other hosts' workers (SetRemote).
	cluster *clusterSeam
	// record writes a job as its failure destination's payload.
	record func(store.Job) []byte
	hb     heartbeat
}

// New returns the engine of a FAAS_HOME whose records are in st. The
// caller chooses the store (the command line's factory opens SQLite).
func New(home string, st Store) *Engine {
	return &Engine{core: &core{Home: home, store: st, Now: time.Now}}
}

// As returns a view of the engine scoped to owner: it records owner on what
// it creates and sees only owner's functions, jobs and bill.
func (e *Engine) As(owner string) *Engine {
	return &Engine{core: e.core, Owner: owner, Scoped: true}
}

// function reads a function the engine may see: another owner's is not
// found, as if it did not exist.
func (e *Engine) function(ctx context.Context, name string) (store.Function, error) {
	f, err := e.store.GetFunction(ctx, name)
	if err == nil && e.Scoped && f.Owner != e.Owner {
		return store.Function{}, fault.WithHint(fault.NotFoundf("function %q not found", name), "run `faas ls` to see deployed functions")
	}
	return f, err
}

// Close stops the heartbeat, if any, and releases the database.
func (e *Engine) Close() error {
	e.stopHeartbeat()
	return e.store.Close()
}

// SetProvider makes every function run on p (tests).
func (e *Engine) SetProvider(p provider.Provider) { e.override = p }

// ProviderFor returns the provider of that name, made on first use.
func (e *Engine) ProviderFor(ctx context.Context, name string) (provider.Provider, error) {
	if e.override != nil {
		return e.override, nil
	}
	e.provMu.Lock()
	defer e.provMu.Unlock()
	if p, ok := e.providers[name]; ok {
		return p, nil
	}
	if name == "" {
		name = provider.Default
	}
	reg, ok := provider.Lookup(name)
	if !ok {
		return nil, fault.Platformf("unknown provider %q", name)
	}
	p, err := reg.New(ctx, e.Home)
	if err != nil {
		return nil, err
	}
	if e.providers == nil {
		e.providers = map[string]provider.Provider{}
	}
	e.providers[name] = p
	return p, nil
}

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewJobID returns a 16-character id that sorts by creation time: 10
// characters of milliseconds, then 6 random ones.
func NewJobID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = idAlphabet[ms&31]
		ms >>= 5
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	for i := range r {
		b[10+i] = idAlphabet[r[i]&31]
	}
	return string(b[:])
}

// runnerAlive reports whether the process that recorded a job still runs.
// This process is, without a look at /proc: a server runs most jobs itself.
func runnerAlive(pid int, start int64) bool {
	if pid == os.Getpid() && start == proc.SelfStart() {
		return true
	}
	return proc.Alive(pid, start)
}
