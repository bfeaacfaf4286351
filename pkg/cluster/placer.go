package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/logging"
)

// Placer is the server's side of the cluster: it hears the workers'
// heartbeats, places each call (engine.Remote), records results sent
// again, and ends the jobs of workers that went silent.
type Placer struct {
	nc   *nats.Conn
	eng  *engine.Engine
	home string
	// Host is this host's worker name; Local says what it offers.
	host  string
	local func() Heartbeat
	log   *slog.Logger
	id    string

	mu      sync.Mutex
	workers map[string]*entry
	calls   map[string]chan *nats.Msg
	started time.Time
}

type entry struct {
	hb   Heartbeat
	seen time.Time
	// sent counts this server's calls in flight on the worker.
	sent int
	lost bool
	// started are the instances the watcher started there that no
	// heartbeat has reported yet: one taken after it (the worker's clock)
	// does, or it is gone.
	started []startedInst
}

// NewPlacer returns the placer of a server whose engine is eng; local
// describes this host as a worker (its own heartbeat).
func NewPlacer(nc *nats.Conn, eng *engine.Engine, home, host string, local func() Heartbeat, log *slog.Logger) *Placer {
	if log == nil {
		log = logging.Discard()
	}
	log = log.With("component", "cluster")
	return &Placer{nc: nc, eng: eng, home: home, host: host, local: local, log: log, id: nuid.Next(),
		workers: map[string]*entry{}, calls: map[string]chan *nats.Msg{}, started: time.Now()}
}

// Start subscribes and runs the placer's upkeep until ctx ends.
func (p *Placer) Start(ctx context.Context) error {
	subs := []*nats.Subscription{}
	sub, err := p.nc.Subscribe(SubjHeartbeat, p.heartbeat)
	if err != nil {
		return err
	}
	subs = append(subs, sub)
	if sub, err = p.nc.Subscribe("faas.reply."+p.id+".*", p.reply); err != nil {
		return err
	}
	subs = append(subs, sub)
	if sub, err = p.nc.QueueSubscribe(SubjResult, QueueServers, p.resent); err != nil {
		return err
	}
	subs = append(subs, sub)
	for _, s := range subs {
		_ = s.SetPendingLimits(-1, -1)
	}
	if err := p.nc.Flush(); err != nil {
		return err
	}
	go func() {
		defer func() {
			for _, s := range subs {
				_ = s.Unsubscribe()
			}
		}()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n++
			p.markLost()
			if n%4 == 0 {
				p.sweep(ctx)
				_ = faashome.WriteJSON(WorkersFile(p.home), p.Workers())
			}
		}
	}()
	return nil
}

// WorkersFile is where a server keeps what `faas workers` shows.
func WorkersFile(home string) string { return filepath.Join(home, "run", "workers.json") }

func (p *Placer) heartbeat(m *nats.Msg) {
	var hb Heartbeat
	if json.Unmarshal(m.Data, &hb) != nil || hb.Name == "" || hb.Name == p.host {
		return
	}
	p.mu.Lock()
	e, ok := p.workers[hb.Name]
	if !ok {
		e = &entry{}
		p.workers[hb.Name] = e
	}
	if !ok || e.lost {
		p.log.Info("worker joined", "worker", hb.Name, "address", hb.Address, "capacity", hb.Capacity)
	}
	e.hb, e.seen, e.lost = hb, time.Now(), false
	e.started = slices.DeleteFunc(e.started, func(s startedInst) bool { return !hb.Time.Before(s.at) })
	p.mu.Unlock()
}

// markLost marks the workers silent for LostAfter.
func (p *Placer) markLost() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, e := range p.workers {
		if !e.lost && time.Since(e.seen) > LostAfter {
			e.lost = true
			p.log.Warn("worker lost", "worker", name, "silent", time.Since(e.seen).Round(time.Millisecond).String())
		}
	}
}

// alive says whether a worker has been heard from within LostAfter.
func (p *Placer) alive(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.workers[name]
	return ok && !e.lost && time.Since(e.seen) <= LostAfter
}

// sweep ends the running jobs of workers that are not alive: lost, or
// waiting again with retries left. A server that just started first
// gives every worker LostAfter to be heard.
func (p *Placer) sweep(ctx context.Context) {
	if time.Since(p.started) < LostAfter+HeartbeatEvery {
		return
	}
	hosts, err := p.eng.RunningHosts(ctx)
	if err != nil {
		return
	}
	for h := range hosts {
		if h == p.host || p.alive(h) {
			continue
		}
		if n, err := p.eng.LoseWorkerJobs(ctx, h); err == nil && n > 0 {
			p.log.Warn("running jobs of a lost worker ended or queued again", "worker", h, "jobs", n)
		}
	}
}

// Active implements engine.Remote: some other host's worker is alive.
func (p *Placer) Active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.workers {
		if !e.lost {
			return true
		}
	}
	return false
}

// Workers lists the workers, this host first, then by name.
func (p *Placer) Workers() []Status {
	out := []Status{}
	if p.local != nil {
		out = append(out, Status{Heartbeat: p.local(), State: "up", Local: true, LastHeartbeat: time.Now()})
	}
	p.mu.Lock()
	names := make([]string, 0, len(p.workers))
	for n := range p.workers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := p.workers[n]
		st := Status{Heartbeat: e.hb, State: "up", LastHeartbeat: e.seen}
		if e.lost {
			st.State = "lost"
		}
		out = append(out, st)
	}
	p.mu.Unlock()
	return out
}

// Status is a worker as `faas workers` lists it.
type Status struct {
	Heartbeat
	State         string    `json:"state"`
	Local         bool      `json:"local"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

var (
	errBusy        = errors.New("busy")
	errNoResponder = errors.New("no responders")
)

// candidate is a worker a cold start may go to; "" is this host.
type candidate struct {
	name string
	warm bool
	free int
}

// candidates are the workers to try for a version: those whose last
// heartbeat shows it warm with a free slot (unless cold: a new instance
// is wanted), then by most free capacity.
func (p *Placer) candidates(fn string, version, localFree int, tried map[string]bool, cold bool) []candidate {
	var cs []candidate
	if localFree > 0 && !tried[""] {
		cs = append(cs, candidate{name: "", free: localFree})
	}
	p.mu.Lock()
	for name, e := range p.workers {
		if e.lost || tried[name] {
			continue
		}
		c := candidate{name: name, free: e.hb.Capacity - max(e.hb.Load, e.sent)}
		for _, in := range e.hb.Instances {
			if !cold && in.Function == fn && in.Version == version && in.InFlight < in.Slots {
				c.warm = true
			}
		}
		cs = append(cs, c)
	}
	p.mu.Unlock()
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].warm != cs[j].warm {
			return cs[i].warm
		}
		if cs[i].free != cs[j].free {
			return cs[i].free > cs[j].free
		}
		return cs[i].name < cs[j].name
	})
	return cs
}

// Run implements engine.Remote: warm first (the workers holding the
// version warm with a free slot listen on its warm subject; none answers
// at once when none does), then a cold start on the worker with the most
// free capacity. A busy worker refuses and the next is tried; when every
// one is busy it waits a little and tries again, until ctx ends.
func (p *Placer) Run(ctx context.Context, c engine.RemoteCall, hand func(string) error) (faastype.Outcome, string, error) {
	inv := c.Inv
	inv.CodeName = codestore.Name(inv)
	inv.Code = nil
	req := RunRequest{JobID: c.JobID, Attempt: c.Attempt, Inv: inv}
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		req.Warm = true
		out, worker, err := p.attempt(ctx, WarmSubject(inv.Function, inv.Version), req, hand)
		if !errors.Is(err, errNoResponder) && !errors.Is(err, errBusy) {
			return out, worker, err
		}
		req.Warm = false
		tried := map[string]bool{}
		for _, cand := range p.candidates(inv.Function, inv.Version, c.LocalFree, tried, false) {
			if cand.name == "" {
				return faastype.Outcome{}, "", engine.ErrRunHere
			}
			tried[cand.name] = true
			out, worker, err := p.attempt(ctx, RunSubject(cand.name), req, hand)
			if !errors.Is(err, errNoResponder) && !errors.Is(err, errBusy) {
				return out, worker, err
			}
		}
		select {
		case <-ctx.Done():
			return faastype.Outcome{}, "", ctx.Err()
		case <-time.After(delay):
		}
	}
}

// acceptWait bounds how long a worker may take to take or refuse a call.
const acceptWait = 5 * time.Second

// attempt offers req on subject and, when a worker takes it, waits for
// its result, or for the worker to be lost.
func (p *Placer) attempt(ctx context.Context, subject string, req RunRequest, hand func(string) error) (faastype.Outcome, string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return faastype.Outcome{}, "", err
	}
	if err := fitPayload(p.nc, b); err != nil {
		return faastype.Outcome{}, "", err
	}
	call := nuid.Next()
	ch := make(chan *nats.Msg, 4)
	p.mu.Lock()
	p.calls[call] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.calls, call)
		p.mu.Unlock()
	}()
	if err := p.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: "faas.reply." + p.id + "." + call, Data: b}); err != nil {
		return faastype.Outcome{}, "", fmt.Errorf("offer the call: %w", err)
	}
	var first Reply
	select {
	case m := <-ch:
		if m.Header.Get("Status") == "503" {
			return faastype.Outcome{}, "", errNoResponder
		}
		if json.Unmarshal(m.Data, &first) != nil {
			return faastype.Outcome{}, "", errBusy
		}
	case <-time.After(acceptWait):
		return faastype.Outcome{}, "", errBusy
	case <-ctx.Done():
		return faastype.Outcome{}, "", ctx.Err()
	}
	if first.Kind == ReplyBusy {
		return faastype.Outcome{}, "", errBusy
	}
	worker := first.Worker
	p.addSent(worker, 1)
	defer p.addSent(worker, -1)
	// The job's hand-over to the worker is written while the worker runs
	// it, not before: the write is off the call's path, and it is on the
	// record before the call's result is (the caller records that after
	// this returns, and every return below waits for it).
	handed := make(chan struct{})
	if first.Kind == ReplyAccepted {
		go func() {
			defer close(handed)
			_ = hand(worker)
		}()
	} else {
		close(handed)
	}
	defer func() { <-handed }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	r := first
	for r.Kind != ReplyResult {
		select {
		case m := <-ch:
			r = Reply{}
			_ = json.Unmarshal(m.Data, &r)
		case <-tick.C:
			if !p.alive(worker) {
				return faastype.Outcome{}, worker, engine.ErrWorkerLost
			}
			continue
		case <-ctx.Done():
			return faastype.Outcome{}, worker, ctx.Err()
		}
	}
	if r.Error != "" || r.Outcome == nil {
		return faastype.Outcome{}, worker, fmt.Errorf("worker %s: %s", worker, strings.TrimPrefix(r.Error, "platform: "))
	}
	return *r.Outcome, worker, nil
}

// Recorded tells the worker its result is on the record.
func (p *Placer) Recorded(worker, jobID string, attempt int) {
	if worker == "" || worker == p.host {
		return
	}
	b, _ := json.Marshal(Ack{JobID: jobID, Attempt: attempt})
	_ = p.nc.Publish(AckSubject(worker), b)
}

func (p *Placer) addSent(worker string, n int) {
	p.mu.Lock()
	if e, ok := p.workers[worker]; ok {
		e.sent += n
	}
	p.mu.Unlock()
}

// reply routes a worker's answer to the call waiting for it.
func (p *Placer) reply(m *nats.Msg) {
	call := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	p.mu.Lock()
	ch, ok := p.calls[call]
	p.mu.Unlock()
	if ok {
		select {
		case ch <- m:
		default:
		}
	}
}

// resent records a result a worker sent again, and acknowledges it once
// it is on the record or no longer applies.
func (p *Placer) resent(m *nats.Msg) {
	var r Reply
	if json.Unmarshal(m.Data, &r) != nil || r.Outcome == nil || r.Worker == "" {
		return
	}
	ctx := context.Background()
	if _, err := p.eng.RecordRemoteResult(ctx, r.Worker, r.JobID, r.Attempt, *r.Outcome); err != nil {
		p.log.Error("record job", logging.JobID, r.JobID, "worker", r.Worker, "error", err.Error())
		return // not acknowledged: it comes again
	}
	p.Recorded(r.Worker, r.JobID, r.Attempt)
}

// Hosts implements engine.HostReporter: the workers, and the instances
// other hosts' heartbeats report.
func (p *Placer) Hosts() ([]engine.HostView, []engine.InstanceView) {
	var hosts []engine.HostView
	var insts []engine.InstanceView
	for _, w := range p.Workers() {
		hosts = append(hosts, engine.HostView{Name: w.Name, Address: w.Address, State: w.State, Capacity: w.Capacity, Load: w.Load,
			Instances: len(w.Instances), LastHeartbeat: w.LastHeartbeat, Local: w.Local})
		if w.Local || w.State != "up" {
			continue
		}
		for _, in := range w.Instances {
			insts = append(insts, engine.InstanceView{ID: in.ID, Host: w.Name, Function: in.Function, Provider: in.Provider,
				State: "ready", InFlight: in.InFlight, MemoryUsed: in.RSSBytes, CPUPct: in.CPUPct})
		}
	}
	return hosts, insts
}
