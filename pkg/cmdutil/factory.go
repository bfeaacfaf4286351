// Package cmdutil is what every command shares: the factory of lazily
// built dependencies, the exit-code contract, the --output flag and the
// JSON shapes of the records.
package cmdutil

import (
	"context"
	"os"
	"sync"
	"time"

	// The providers register themselves: the binary takes them in here.
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	_ "github.com/faasdev/faas/pkg/provider/local"
	_ "github.com/faasdev/faas/pkg/provider/multipass"
	_ "github.com/faasdev/faas/pkg/provider/qemu"
	"github.com/faasdev/faas/pkg/remote"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// Backend is what the everyday commands run against: the local engine, or
// a `faas serve` when FAAS_SERVER is set. Both return the same records, so
// the commands print the same.
type Backend interface {
	Deploy(context.Context, engine.DeployRequest) (engine.DeployResult, error)
	Function(ctx context.Context, name string) (store.Function, error)
	Versions(ctx context.Context, name string) ([]store.Version, error)
	VersionCode(ctx context.Context, name string, version int) (store.Version, error)
	Functions(context.Context) ([]store.Function, error)
	Remove(ctx context.Context, name string) error
	Rollback(ctx context.Context, name string, to int) (from, now int, err error)
	Invoke(context.Context, engine.InvokeRequest) (store.Job, error)
	Submit(context.Context, engine.SubmitRequest) (store.Job, error)
	// EnsureQueueRunner makes sure something runs the submitted jobs.
	EnsureQueueRunner(context.Context) error
	Jobs(context.Context, store.JobFilter) ([]store.Job, error)
	Job(ctx context.Context, id string) (store.Job, error)
	WaitJob(ctx context.Context, id string, timeout time.Duration) (store.Job, error)
	Logs(context.Context, engine.LogsRequest) ([]faastype.LogLine, error)
	Bill(context.Context, engine.BillRequest) (engine.Bill, error)
	// Top samples the instances and summarises them, as `faas top` shows.
	Top(ctx context.Context, prev *engine.Snapshot) (engine.Snapshot, error)
	// BuildLog is what the current version's dependency build printed.
	BuildLog(ctx context.Context, name string) ([]byte, error)
	// SetSecret, ListSecrets and RemoveSecret keep the owner's secrets.
	SetSecret(ctx context.Context, name string, value []byte) (created bool, err error)
	ListSecrets(context.Context) ([]engine.SecretInfo, error)
	RemoveSecret(ctx context.Context, name string) (usedBy []string, err error)
}

var (
	_ Backend = (*engine.Engine)(nil)
	_ Backend = (*remote.Client)(nil)
)

// Factory hands commands their dependencies. Engine opens the database on
// first use only, so `faas --help` and `faas completion` create nothing.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Engine is the local engine; with FAAS_SERVER set it is an error, for
	// the commands that only run on the server's host.
	Engine func() (*engine.Engine, error)
	// Local is the local engine whatever FAAS_SERVER says: for the server
	// itself and what runs beside it.
	Local func() (*engine.Engine, error)
	// LocalWith is Local opened with store options (the server's background
	// checkpoints); they count only if this call is the one that opens it.
	LocalWith func(...sqlite.Option) (*engine.Engine, error)
	// Backend is the local engine, or the remote server.
	Backend func() (Backend, error)
	// Close releases whatever Engine opened.
	Close func()
	// Run runs a command line against a factory as faas' main does
	// (pkg/app.Run): a local agent runs the `faas invoke` calls handed to
	// it (pkg/fastinvoke) with it. nil in tests that do not need it.
	Run func(ctx context.Context, f *Factory, args []string) int
	// Runner is the process a command line runs for when it is not this
	// one (a `faas invoke` handed to a local agent); zero for this one.
	Runner Runner
}

// Runner is a process that jobs run for: its pid and start time.
type Runner struct {
	PID   int
	Start int64
}

// ForEngine returns the factory of a command line run for runner against
// an engine that another owns (a local agent's, for the calls handed to
// it): open returns it, and Close leaves it open.
func ForEngine(io *iostreams.IOStreams, open func() (*engine.Engine, error), runner Runner) *Factory {
	f := &Factory{IOStreams: io, Local: open, Close: func() {}, Runner: runner}
	f.LocalWith = func(...sqlite.Option) (*engine.Engine, error) { return open() }
	f.Engine = func() (*engine.Engine, error) {
		if err := localOnly(); err != nil {
			return nil, err
		}
		return open()
	}
	f.Backend = func() (Backend, error) {
		e, err := f.Engine()
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	return f
}

// Remote returns FAAS_SERVER and FAAS_TOKEN; server is "" when the
// command line runs locally.
func Remote() (server, token string) {
	return os.Getenv("FAAS_SERVER"), os.Getenv("FAAS_TOKEN")
}

// localOnly refuses, with FAAS_SERVER set, a command that runs only where
// the functions live (it changes or inspects the host).
func localOnly() error {
	if server, _ := Remote(); server != "" {
		return fault.WithHint(fault.Usagef("this command runs only where the functions live, not against FAAS_SERVER=%s", server),
			"run it on the server's host, or unset FAAS_SERVER")
	}
	return nil
}

// LocalHome is FAAS_HOME for a command that runs only where the functions
// live: with FAAS_SERVER set it is the usage error that says so.
func LocalHome() (string, error) {
	if err := localOnly(); err != nil {
		return "", err
	}
	return faashome.Resolve()
}

// New returns the factory of a real process.
func New(ctx context.Context, io *iostreams.IOStreams) *Factory {
	var once sync.Once
	var eng *engine.Engine
	var err error
	f := &Factory{IOStreams: io}
	f.LocalWith = func(opts ...sqlite.Option) (*engine.Engine, error) {
		once.Do(func() {
			var home string
			if home, err = faashome.Resolve(); err == nil {
				eng, err = OpenEngine(ctx, home, opts...)
			}
		})
		return eng, err
	}
	f.Local = func() (*engine.Engine, error) { return f.LocalWith() }
	f.Engine = func() (*engine.Engine, error) {
		if err := localOnly(); err != nil {
			return nil, err
		}
		return f.Local()
	}
	f.Backend = func() (Backend, error) {
		if server, token := Remote(); server != "" {
			return remote.New(server, token)
		}
		e, err := f.Engine()
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	f.Close = func() {
		if eng != nil {
			eng.Close()
		}
	}
	return f
}
