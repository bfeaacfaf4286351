package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
)

// The watcher's messages to a worker: start an idle instance (a scale-out
// or the warm pool), stop an idle one (a scale-in or to zero).

// StartSubject is where a worker hears that it should start an instance.
func StartSubject(worker string) string { return "faas.start." + worker }

// StopSubject is where a worker hears that it should stop an instance.
func StopSubject(worker string) string { return "faas.stop." + worker }

// StartRequest asks a worker for an idle instance of a version; the
// invocation comes without its code, as in a RunRequest.
type StartRequest struct {
	Inv faastype.Invocation `json:"inv"`
}

// StopRequest asks a worker to stop one of its idle instances.
type StopRequest struct {
	ID string `json:"id"`
}

// ScaleReply is a worker's answer to a StartRequest or a StopRequest.
type ScaleReply struct {
	Worker   string `json:"worker"`
	Instance string `json:"instance"`
	Error    string `json:"error,omitempty"`
	// At is when the worker took the instance on its books (its clock):
	// its heartbeats taken since report it.
	At time.Time `json:"at"`
}

// startedInst is an instance a worker started for the watcher.
type startedInst struct {
	in InstanceInfo
	at time.Time
}

// scaleWait bounds how long a worker may take to answer.
const scaleWait = 5 * time.Second

// RemoteInstances implements engine.Scaler: the instances the workers
// heard from within LostAfter report.
func (p *Placer) RemoteInstances() []engine.RemoteInstance {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []engine.RemoteInstance
	for name, e := range p.workers {
		if e.lost {
			continue
		}
		ins := slices.Clone(e.hb.Instances)
		for _, s := range e.started {
			ins = append(ins, s.in)
		}
		for _, in := range ins {
			out = append(out, engine.RemoteInstance{Host: name, ID: in.ID, Function: in.Function, Version: in.Version,
				Provider: in.Provider, Slots: in.Slots, InFlight: in.InFlight, RSSBytes: in.RSSBytes, CPUPct: in.CPUPct})
		}
	}
	return out
}

// StartInstance implements engine.Scaler: the instance goes where a cold
// start would (the placer's candidates, warm or not alike); a worker that
// does not answer is passed over for the next.
func (p *Placer) StartInstance(ctx context.Context, inv faastype.Invocation, localFree int) (string, string, error) {
	inv.CodeName = codestore.Name(inv)
	inv.Code = nil
	inv.Secrets = nil
	var errs []error
	for _, c := range p.candidates(inv.Function, inv.Version, localFree, map[string]bool{}, true) {
		if c.name == "" {
			return "", "", engine.ErrRunHere
		}
		r, err := p.ask(ctx, StartSubject(c.name), StartRequest{Inv: inv})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			continue
		}
		// Counted at once: the worker's answer comes before its next
		// heartbeat (one connection), which reports the instance.
		p.mu.Lock()
		if e, ok := p.workers[c.name]; ok {
			e.started = append(e.started, startedInst{at: r.At, in: InstanceInfo{ID: r.Instance, Function: inv.Function,
				Version: inv.Version, Slots: max(inv.Config.Concurrency, 1)}})
		}
		p.mu.Unlock()
		return c.name, r.Instance, nil
	}
	if len(errs) == 0 {
		return "", "", engine.ErrRunHere
	}
	return "", "", errors.Join(errs...)
}

// StopInstance implements engine.Scaler.
func (p *Placer) StopInstance(ctx context.Context, host, id string) error {
	if _, err := p.ask(ctx, StopSubject(host), StopRequest{ID: id}); err != nil {
		return err
	}
	// Gone at once, not at the worker's next heartbeat.
	p.mu.Lock()
	if e, ok := p.workers[host]; ok {
		e.hb.Instances = slices.DeleteFunc(slices.Clone(e.hb.Instances), func(in InstanceInfo) bool { return in.ID == id })
	}
	p.mu.Unlock()
	return nil
}

// ask sends a worker a request and reads its ScaleReply.
func (p *Placer) ask(ctx context.Context, subject string, req any) (ScaleReply, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return ScaleReply{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, scaleWait)
	defer cancel()
	m, err := p.nc.RequestWithContext(ctx, subject, b)
	if err != nil {
		return ScaleReply{}, err
	}
	var r ScaleReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return ScaleReply{}, err
	}
	if r.Error != "" {
		return r, errors.New(r.Error)
	}
	return r, nil
}

// newID names a new instance of the worker (mu held): unique across the
// cluster, as it carries the worker's name.
func (w *Worker) newID(key poolKey) string {
	w.seq++
	return key.provider + "-" + key.function + "-" + w.o.Name + "-" + strconv.Itoa(w.seq)
}

func (w *Worker) answer(m *nats.Msg, r ScaleReply) {
	r.Worker = w.o.Name
	b, _ := json.Marshal(r)
	_ = m.Respond(b)
}

// startIdle starts an idle instance of a version, answering once it is
// on the worker's books (starting: its heartbeats count it at once).
func (w *Worker) startIdle(m *nats.Msg) {
	var req StartRequest
	if json.Unmarshal(m.Data, &req) != nil {
		return
	}
	p, pname := w.providerFor(req.Inv)
	if p == nil {
		w.answer(m, ScaleReply{Error: fmt.Sprintf("provider %q is not on worker %s", pname, w.o.Name)})
		return
	}
	key := poolKey{req.Inv.Function, req.Inv.Version, pname}
	w.mu.Lock()
	in := &winst{slots: max(req.Inv.Config.Concurrency, 1), ready: make(chan struct{}), lastUsed: time.Now(),
		inst: faastype.Instance{ID: w.newID(key), Function: key.function, Provider: key.provider, State: "starting"}}
	w.pool[key] = append(w.pool[key], in)
	at := time.Now()
	w.mu.Unlock()
	w.answer(m, ScaleReply{Instance: in.inst.ID, At: at})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		inv := req.Inv
		code, err := w.code(ctx, inv)
		if err == nil {
			inv.Code = code
			err = w.launch(ctx, p, in, inv)
		} else {
			w.fail(key, in, true, err)
		}
		if err != nil {
			w.o.Log.Warn("instance did not start", "instance", in.inst.ID, "function", key.function, "error", err.Error())
			w.mu.Lock()
			if in.inflight == 0 {
				w.drop(key, in)
			}
			w.updateSubs()
			w.mu.Unlock()
		}
	}()
}

// stopIdle stops one of the worker's ready instances without a call in
// flight; one that is busy or still starting is kept, saying so.
func (w *Worker) stopIdle(m *nats.Msg) {
	var req StopRequest
	if json.Unmarshal(m.Data, &req) != nil {
		return
	}
	w.mu.Lock()
	var found *winst
	var fkey poolKey
	for key, insts := range w.pool {
		for _, in := range insts {
			if in.inst.ID == req.ID {
				found, fkey = in, key
			}
		}
	}
	var msg string
	switch {
	case found == nil:
		msg = "no instance " + req.ID + " on worker " + w.o.Name
	case found.inflight > 0:
		msg = "instance " + req.ID + " has calls in flight"
	case found.inst.State != "ready" || found.err != nil:
		msg = "instance " + req.ID + " is still starting"
	default:
		w.drop(fkey, found)
		w.updateSubs()
	}
	w.mu.Unlock()
	if msg != "" {
		w.answer(m, ScaleReply{Instance: req.ID, Error: msg})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := ScaleReply{Instance: req.ID}
	if p := w.o.Providers[fkey.provider]; p != nil {
		if err := p.Stop(ctx, found.inst); err != nil {
			r.Error = err.Error()
		}
	}
	w.o.Log.Info("instance stopped", "instance", req.ID, "function", fkey.function)
	w.answer(m, r)
}
