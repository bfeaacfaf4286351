package local

import (
	"context"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/config"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/spare"
)

// SparesKey is how many spare agents (pkg/spare) a home keeps per runtime
// and interpreter once a function of it has been launched: each a `faas
// agent` with a jailed worker whose interpreter and bootstrap have started,
// which the next cold start of a qualifying version claims instead of
// starting its own. 0 turns them off.
const SparesKey = "local.spares"

// DefaultSpares is one spare: it costs an idle agent, a jail's init and an
// interpreter (about 70 MiB RSS, 30 MiB PSS) for the agents' idle time
// after the last launch, and makes the next cold start an import.
const DefaultSpares = "1"

func init() {
	config.Register(config.Key{Name: SparesKey, Default: DefaultSpares, Check: config.Count(4),
		Help: "spare agents kept per runtime (a jailed, started Python worker) that the next cold start of a function takes over; 0 turns them off"})
}

// spareState is the provider's share of the spares.
type spareState struct {
	n          int // the setting, once configured
	configured bool
	mu         sync.Mutex
	shapeOnce  sync.Once
	shape      string
}

// Configure implements provider.Configurable: local.spares.
func (p *Provider) Configure(stored map[string]string) {
	n, err := strconv.Atoi(config.Value(stored, SparesKey))
	if err != nil {
		return
	}
	p.spares.mu.Lock()
	p.spares.n, p.spares.configured = n, true
	p.spares.mu.Unlock()
}

func (p *Provider) spareCount() int {
	p.spares.mu.Lock()
	defer p.spares.mu.Unlock()
	if !p.spares.configured {
		n, _ := strconv.Atoi(DefaultSpares)
		return n
	}
	return p.spares.n
}

// want is the spare a launch of inv would claim.
func (p *Provider) want(inv faastype.Invocation) spare.Want {
	p.spares.shapeOnce.Do(func() { p.spares.shape = spare.Shape(p.Self, os.Environ()) })
	return spare.Want{Runtime: inv.Config.Runtime, Interpreter: inv.Config.Interpreter, Shape: p.spares.shape}
}

// launchSpare claims a spare for inst, if inv qualifies and one is free,
// and makes it inst: ok is false when none was taken over (then the
// launch goes on as without spares).
func (p *Provider) launchSpare(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, bool) {
	if p.spareCount() == 0 {
		return inst, false
	}
	if ok, _ := spare.Qualifies(inv); !ok {
		return inst, false
	}
	info, ok := spare.Claim(p.Home, p.want(inv))
	if !ok {
		return inst, false
	}
	token, err := p.token(inst.ID)
	if err != nil {
		return inst, false
	}
	spareToken, err := p.token(info.ID)
	if err != nil {
		return inst, false
	}
	c := client.New("unix:"+p.socketPath(info.ID), spareToken)
	defer c.Close()
	bctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	err = c.Become(bctx, api.BecomeRequest{Instance: inst.ID, Function: inv.Function, Token: token,
		Pinned: inv.Config.MinInstances > 0, Spares: p.spareCount(), Invoke: prestartRequest(inv)})
	if err != nil {
		// Claimed, so nobody else's: it goes.
		if info.Alive() {
			_ = syscall.Kill(info.PID, syscall.SIGTERM)
		}
		return inst, false
	}
	p.launched.Store(inst.ID, true)
	inst.Token, inst.Endpoint, inst.PID, inst.PIDStart = token, "unix:"+p.socketPath(inst.ID), info.PID, info.PIDStart
	return inst, true
}
