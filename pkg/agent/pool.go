package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// pool holds the warm workers of one version: at most Concurrency of them,
// started on demand, so the instance runs that many invocations at once.
type pool struct {
	inv  faastype.Invocation // the version's identity and config
	size int
	h    *host
	ids  func() string

	// slots holds a token per invocation in progress (at most size): a
	// call waits for a slot, then takes an idle worker or, when none is
	// idle, starts one. A worker that dies frees its slot like any other,
	// so whoever waits gets it.
	slots chan struct{}
	idle  chan *worker

	mu      sync.Mutex
	retired bool
	all     map[*worker]bool
	// warming, when set, is closed when a prestarted worker is ready (in
	// idle) or failed to start; claimed says a call waits for it.
	warming chan struct{}
	claimed bool
}

func newPool(h *host, inv faastype.Invocation, ids func() string) *pool {
	size := max(inv.Config.Concurrency, 1)
	return &pool{inv: inv, size: size, h: h, ids: ids,
		slots: make(chan struct{}, size), idle: make(chan *worker, size), all: map[*worker]bool{}}
}

// acquire waits for a slot, then returns an idle (warm) worker or starts
// one (cold). A worker is started only when none is idle, so the pool never
// has more workers than slots. The init logs are returned when a new
// worker failed to start.
func (p *pool) acquire(ctx context.Context) (w *worker, cold bool, initLogs []byte, err error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, nil, ctx.Err()
	}
	select {
	case w := <-p.idle:
		return w, w.takeFresh(), nil, nil
	default:
	}
	// The first call to find a prestarted worker still starting waits for
	// it rather than start another; the calls beside it start their own,
	// as they would have without it.
	p.mu.Lock()
	warming := p.warming
	wait := warming != nil && !p.claimed
	p.claimed = p.claimed || wait
	p.mu.Unlock()
	if wait {
		select {
		case <-warming:
		case <-ctx.Done():
			<-p.slots
			return nil, false, nil, ctx.Err()
		}
		select {
		case w := <-p.idle:
			return w, w.takeFresh(), nil, nil
		default:
		}
	}
	w, logs, err := startWorker(p.h, p.ids(), p.inv)
	if err != nil {
		<-p.slots
		return nil, true, logs, err
	}
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()
	return w, true, nil, nil
}

// prestart starts a worker before any call asks for one, when the pool
// has none: the first call that comes meanwhile waits for it (acquire)
// rather than starting another. It holds no slot: that call's slot
// covers it, so the pool still has no more workers than slots. Its first
// call is still a cold start.
func (p *pool) prestart(logf func(string, ...any)) bool {
	return p.warm(logf, func(id string) (*worker, error) {
		w, _, err := startWorker(p.h, id, p.inv)
		return w, err
	})
}

// warm is prestart with start making the worker (a prestarted one, or a
// spare's stem that becomes this version's worker); false when the pool
// already has one.
func (p *pool) warm(logf func(string, ...any), start func(id string) (*worker, error)) bool {
	p.mu.Lock()
	if len(p.all) > 0 || p.warming != nil || p.retired {
		p.mu.Unlock()
		return false
	}
	done := make(chan struct{})
	p.warming = done
	p.mu.Unlock()
	id := p.ids()
	go func() {
		defer close(done)
		w, err := start(id)
		if err != nil {
			// The call that comes starts one itself, and reports why not.
			logf("prestart of %s v%d: %v", p.inv.Function, p.inv.Version, err)
			return
		}
		w.fresh = true
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.retired {
			go w.stop()
			return
		}
		p.all[w] = true
		// Under the lock, so that retire, which drains idle after it
		// marked the pool retired, cannot miss it; never blocks: idle
		// holds at most size workers, and this is the first.
		p.idle <- w
	}()
	return true
}

// release gives a worker back and frees its slot; a dead one, or any of a
// retired pool, is stopped.
func (p *pool) release(w *worker, alive bool) {
	p.mu.Lock()
	keep := alive && !p.retired
	if !keep {
		delete(p.all, w)
	}
	p.mu.Unlock()
	if keep {
		p.idle <- w // never blocks: workers ≤ slots = cap(idle)
	} else {
		go w.stop()
	}
	<-p.slots
}

// retire stops the idle workers now and the busy ones as they finish.
func (p *pool) retire() {
	p.mu.Lock()
	p.retired = true
	p.mu.Unlock()
	for {
		select {
		case w := <-p.idle:
			p.mu.Lock()
			delete(p.all, w)
			p.mu.Unlock()
			w.stop()
		default:
			return
		}
	}
}

func (p *pool) workers() []*worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*worker, 0, len(p.all))
	for w := range p.all {
		out = append(out, w)
	}
	return out
}

// run invokes a handler on a worker of the pool.
// died says the worker crashed under the invocation (not a timeout or a
// cancel): the instance's business too, not only the job's.
func (p *pool) run(ctx context.Context, req api.InvokeRequest) (out faastype.Outcome, worker string, died bool, err error) {
	timeout := time.Duration(req.TimeoutMS) * time.Millisecond
	w, cold, initLogs, err := p.acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return faastype.Interrupted(time.Now()), "", false, nil
		}
		if fault.KindOf(err) == fault.Platform && initLogs == nil {
			return faastype.Outcome{}, "", false, err
		}
		// The function failed to initialise: its job fails, with the logs.
		now := time.Now()
		one := 1
		return faastype.Outcome{Status: faastype.Failed, Error: err.Error(), Logs: initLogs, Cold: true,
			StartedAt: now, EndedAt: now, ExitCode: &one}, "", false, nil
	}
	out, alive, died := w.invoke(ctx, req.JobID, req.Payload, timeout)
	out.Cold = cold
	if cold {
		out.InitMS = w.initMS
	}
	p.release(w, alive)
	return out, w.id, died, nil
}

// workerIDs numbers an agent's workers. The ids name cgroups, which all
// FAAS_HOMEs on a host share, so they carry a random part too.
func workerIDs(instance string) func() string {
	var mu sync.Mutex
	n := 0
	var b [4]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return instance + "-" + tag + "-w" + strconv.Itoa(n)
	}
}

// isHandler says whether a config runs in warm workers.
func isHandler(c function.Config) bool { return c.Mode == function.Handler }
