package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/provider"
)

// WorkerOptions configure a worker.
type WorkerOptions struct {
	Name    string
	Address string
	Home    string
	Version string
	// Capacity is how many invocations run at once on this host.
	Capacity int
	// Providers are this host's providers by name; Default runs
	// functions whose provider this host has not got.
	Providers map[string]provider.Provider
	Default   string
	// Fetch gets a version's code from the server, by its sha256.
	Fetch func(ctx context.Context, inv faastype.Invocation) ([]byte, error)
	// Prepare, when set, readies what a version needs beyond its code (its
	// dependency environment), before its first instance starts.
	Prepare func(ctx context.Context, inv faastype.Invocation) error
	Log     *slog.Logger
}

// Worker runs invocations on its host's instances for the servers.
type Worker struct {
	o  WorkerOptions
	nc *nats.Conn

	mu      sync.Mutex
	load    int
	seq     int
	pool    map[poolKey][]*winst
	subs    map[poolKey]*nats.Subscription
	unacked map[Ack]*pendingResult
	codeMu  sync.Mutex
	started time.Time
	// cpu is each instance's last CPU reading (the heartbeat loop's).
	cpu map[string]cpuReading
	wg  sync.WaitGroup
}

type poolKey struct {
	function string
	version  int
	provider string
}

// winst is one of the worker's instances.
type winst struct {
	inst     faastype.Instance
	slots    int
	inflight int
	ready    chan struct{} // closed once launched (or failed)
	err      error
	lastUsed time.Time
}

type pendingResult struct {
	reply Reply
	sent  time.Time
}

// NewWorker returns a worker on nc.
func NewWorker(nc *nats.Conn, o WorkerOptions) *Worker {
	if o.Log == nil {
		o.Log = logging.Discard()
	}
	return &Worker{o: o, nc: nc, pool: map[poolKey][]*winst{}, subs: map[poolKey]*nats.Subscription{},
		unacked: map[Ack]*pendingResult{}, started: time.Now()}
}

// Run serves until ctx ends, then stops taking calls and waits for those
// in flight, and for their results to be acknowledged (up to 10 s).
func (w *Worker) Run(ctx context.Context) error {
	run, err := w.nc.Subscribe(RunSubject(w.o.Name), w.handle)
	if err != nil {
		return err
	}
	ack, err := w.nc.Subscribe(AckSubject(w.o.Name), w.acked)
	if err != nil {
		return err
	}
	start, err := w.nc.Subscribe(StartSubject(w.o.Name), w.startIdle)
	if err != nil {
		return err
	}
	stop, err := w.nc.Subscribe(StopSubject(w.o.Name), w.stopIdle)
	if err != nil {
		return err
	}
	_ = run.SetPendingLimits(-1, -1)
	w.beat()
	tick := time.NewTicker(HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = run.Unsubscribe()
			_ = start.Unsubscribe()
			_ = stop.Unsubscribe()
			w.mu.Lock()
			for k, s := range w.subs {
				_ = s.Unsubscribe()
				delete(w.subs, k)
			}
			w.mu.Unlock()
			w.wg.Wait()
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && w.pending() > 0; {
				w.beat()
				w.resend(0)
				time.Sleep(200 * time.Millisecond)
			}
			_ = ack.Unsubscribe()
			return nil
		case <-tick.C:
			w.reap()
			w.beat()
			w.resend(2 * time.Second)
		}
	}
}

// Heartbeat is what the worker reports of itself now.
func (w *Worker) Heartbeat() Heartbeat {
	names := make([]string, 0, len(w.o.Providers))
	for n := range w.o.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	w.mu.Lock()
	defer w.mu.Unlock()
	hb := Heartbeat{Name: w.o.Name, Address: w.o.Address, Version: w.o.Version, Providers: names, Capacity: w.o.Capacity,
		Load: w.load, Started: w.started, Time: time.Now(), Instances: []InstanceInfo{}}
	for k, insts := range w.pool {
		for _, in := range insts {
			hb.Instances = append(hb.Instances, InstanceInfo{ID: in.inst.ID, Function: k.function, Version: k.version,
				Provider: k.provider, Slots: in.slots, InFlight: in.inflight})
		}
	}
	sort.Slice(hb.Instances, func(i, j int) bool { return hb.Instances[i].ID < hb.Instances[j].ID })
	return hb
}

func (w *Worker) beat() {
	hb := w.Heartbeat()
	w.withStats(&hb)
	b, _ := json.Marshal(hb)
	_ = w.nc.Publish(SubjHeartbeat, b)
}

// instance is one of the worker's instances by id, and whether it is ready.
func (w *Worker) instance(id string) (faastype.Instance, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, insts := range w.pool {
		for _, in := range insts {
			if in.inst.ID == id {
				return in.inst, in.inst.State == "ready" && in.err == nil
			}
		}
	}
	return faastype.Instance{}, false
}

// handle takes or refuses a call, at once: a busy worker never queues.
func (w *Worker) handle(m *nats.Msg) {
	var req RunRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || m.Reply == "" {
		return
	}
	p, pname := w.providerFor(req.Inv)
	key := poolKey{req.Inv.Function, req.Inv.Version, pname}
	in, cold := w.reserve(key, req)
	if in == nil {
		w.publish(m.Reply, Reply{Kind: ReplyBusy, Worker: w.o.Name, JobID: req.JobID, Attempt: req.Attempt})
		return
	}
	w.publish(m.Reply, Reply{Kind: ReplyAccepted, Worker: w.o.Name, JobID: req.JobID, Attempt: req.Attempt})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		out, err := w.run(p, key, in, cold, req.Inv)
		w.release(key, in)
		r := Reply{Kind: ReplyResult, Worker: w.o.Name, JobID: req.JobID, Attempt: req.Attempt}
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Outcome = &out
		}
		w.mu.Lock()
		w.unacked[Ack{JobID: req.JobID, Attempt: req.Attempt}] = &pendingResult{reply: r, sent: time.Now()}
		w.mu.Unlock()
		w.publish(m.Reply, r)
	}()
}

func (w *Worker) providerFor(inv faastype.Invocation) (provider.Provider, string) {
	// The function's provider is not in the invocation: a worker runs
	// every function on its default provider.
	return w.o.Providers[w.o.Default], w.o.Default
}

// reserve takes a slot for a call: on a warm (or starting) instance of
// the version with one free, else on a new instance while the worker has
// capacity. A call on a warm subject never starts an instance.
func (w *Worker) reserve(key poolKey, req RunRequest) (*winst, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.updateSubs()
	if w.load >= w.o.Capacity {
		return nil, false
	}
	for _, in := range w.pool[key] {
		if in.err == nil && in.inflight < in.slots {
			in.inflight++
			w.load++
			in.lastUsed = time.Now()
			return in, false
		}
	}
	if req.Warm {
		return nil, false
	}
	in := &winst{slots: max(req.Inv.Config.Concurrency, 1), inflight: 1, ready: make(chan struct{}), lastUsed: time.Now(),
		inst: faastype.Instance{ID: w.newID(key), Function: key.function,
			Provider: key.provider, State: "starting"}}
	w.pool[key] = append(w.pool[key], in)
	w.load++
	return in, true
}

func (w *Worker) release(key poolKey, in *winst) {
	w.mu.Lock()
	defer w.mu.Unlock()
	in.inflight--
	w.load--
	in.lastUsed = time.Now()
	if in.err != nil {
		w.drop(key, in)
	}
	w.updateSubs()
}

// drop forgets an instance (mu held).
func (w *Worker) drop(key poolKey, in *winst) {
	insts := w.pool[key]
	for i, x := range insts {
		if x == in {
			w.pool[key] = append(insts[:i:i], insts[i+1:]...)
			break
		}
	}
	if len(w.pool[key]) == 0 {
		delete(w.pool, key)
	}
}

// updateSubs listens on a version's warm subject exactly while it has a
// ready instance with a free slot and the worker has capacity (mu held).
// A subscription is sent before the reply that freed the slot, on the same
// connection, so the server knows of it when it reads the reply.
func (w *Worker) updateSubs() {
	for key, insts := range w.pool {
		free := false
		for _, in := range insts {
			if in.inst.State == "ready" && in.err == nil && in.inflight < in.slots {
				free = true
			}
		}
		free = free && w.load < w.o.Capacity
		sub, on := w.subs[key]
		switch {
		case free && !on:
			if s, err := w.nc.QueueSubscribe(WarmSubject(key.function, key.version), QueueWorkers, w.handle); err == nil {
				_ = s.SetPendingLimits(-1, -1)
				w.subs[key] = s
			}
		case !free && on:
			// Drained, not dropped: a call the server routed here before
			// it heard of the unsubscription is still answered (refused).
			_ = sub.Drain()
			delete(w.subs, key)
		}
	}
	for key, sub := range w.subs {
		if _, ok := w.pool[key]; !ok {
			_ = sub.Drain()
			delete(w.subs, key)
		}
	}
}

// run runs inv on in, launching it first when this call made it (cold),
// and once more on a new instance when it turns out to be gone.
func (w *Worker) run(p provider.Provider, key poolKey, in *winst, cold bool, inv faastype.Invocation) (faastype.Outcome, error) {
	if p == nil {
		return faastype.Outcome{}, fmt.Errorf("provider %q is not on worker %s", key.provider, w.o.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), inv.EffectiveTimeout()+2*time.Minute)
	defer cancel()
	code, err := w.code(ctx, inv)
	if err != nil {
		w.fail(key, in, cold, err)
		return faastype.Outcome{}, err
	}
	inv.Code = code
	if cold {
		if err := w.launch(ctx, p, in, inv); err != nil {
			return faastype.Outcome{}, err
		}
	} else if err := waitReady(ctx, in); err != nil {
		return faastype.Outcome{}, err
	}
	out, err := p.Invoke(ctx, in.inst, inv, false)
	if errors.Is(err, faastype.ErrGone) {
		// An agent that exited when idle: start it again, once.
		w.mu.Lock()
		in.inst.State, in.ready = "starting", make(chan struct{})
		w.updateSubs()
		w.mu.Unlock()
		if err := w.launch(ctx, p, in, inv); err != nil {
			return faastype.Outcome{}, err
		}
		cold = true
		out, err = p.Invoke(ctx, in.inst, inv, false)
	}
	if err != nil {
		return faastype.Outcome{}, err
	}
	out.Instance = in.inst.ID
	out.Cold = out.Cold || cold
	return out, nil
}

func (w *Worker) launch(ctx context.Context, p provider.Provider, in *winst, inv faastype.Invocation) error {
	key := poolKey{inv.Function, inv.Version, p.Name()}
	if w.o.Prepare != nil {
		if err := w.o.Prepare(ctx, inv); err != nil {
			w.fail(key, in, true, err)
			return err
		}
	}
	up, err := p.Launch(ctx, in.inst, inv)
	if err != nil {
		w.fail(key, in, true, err)
		return err
	}
	w.mu.Lock()
	up.State = "ready"
	in.inst = up
	close(in.ready)
	w.updateSubs()
	w.mu.Unlock()
	w.o.Log.Info("instance started", "instance", up.ID, "function", inv.Function, "version", inv.Version)
	return nil
}

// fail marks an instance that could not start: the calls waiting for it
// fail too, and it is forgotten when the last lets go.
func (w *Worker) fail(key poolKey, in *winst, starting bool, err error) {
	if !starting {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if in.err == nil {
		in.err = err
		close(in.ready)
	}
}

func waitReady(ctx context.Context, in *winst) error {
	select {
	case <-in.ready:
		return in.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// code is a version's code: on disk in this worker's home, or fetched from
// the server (and checked against its sha256), once.
func (w *Worker) code(ctx context.Context, inv faastype.Invocation) ([]byte, error) {
	w.codeMu.Lock()
	defer w.codeMu.Unlock()
	path := codestore.Path(w.o.Home, inv)
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	}
	b, err := w.o.Fetch(ctx, inv)
	if err != nil {
		return nil, fmt.Errorf("fetch the code of %s v%d: %w", inv.Function, inv.Version, err)
	}
	inv.Code = b
	if _, err := codestore.Write(w.o.Home, inv); err != nil {
		return nil, err
	}
	return b, nil
}

// reap forgets the idle instances whose process is gone (an agent exits
// by itself after its idle timeout).
func (w *Worker) reap() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, insts := range w.pool {
		p := w.o.Providers[key.provider]
		for _, in := range insts {
			if p != nil && in.inflight == 0 && in.inst.State == "ready" && !p.Alive(in.inst) {
				w.drop(key, in)
			}
		}
	}
	w.updateSubs()
}

func (w *Worker) publish(subject string, r Reply) {
	b, _ := json.Marshal(r)
	if err := fitPayload(w.nc, b); err != nil {
		r.Outcome, r.Error = nil, err.Error()
		b, _ = json.Marshal(r)
	}
	_ = w.nc.Publish(subject, b)
}

// acked forgets a result a server recorded.
func (w *Worker) acked(m *nats.Msg) {
	var a Ack
	if json.Unmarshal(m.Data, &a) == nil {
		w.mu.Lock()
		delete(w.unacked, a)
		w.mu.Unlock()
	}
}

func (w *Worker) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.unacked)
}

// resend sends again, to any server, the results not acknowledged for
// older than age: the server that asked may have restarted.
func (w *Worker) resend(age time.Duration) {
	w.mu.Lock()
	var again []Reply
	for _, p := range w.unacked {
		if time.Since(p.sent) >= age {
			p.sent = time.Now()
			again = append(again, p.reply)
		}
	}
	w.mu.Unlock()
	for _, r := range again {
		w.publish(SubjResult, r)
	}
}
