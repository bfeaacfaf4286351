package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/faasdev/faas/pkg/autoscale"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// AutoscaleSettings reads the watcher's settings and tick from config.
func (e *Engine) AutoscaleSettings(ctx context.Context) (autoscale.Settings, time.Duration, error) {
	stored, err := e.store.Config(ctx)
	if err != nil {
		return autoscale.Settings{}, 0, err
	}
	s, tick := autoscale.FromConfig(stored)
	return s, tick, nil
}

// TickResult is what one tick of the watcher did.
type TickResult struct {
	Snapshot Snapshot
	Lost     int
	Events   []store.ScaleEvent
}

// AutoscaleTick is one tick of the watcher: reconcile (jobs of dead
// processes → lost, vanished instances forgotten), sample every instance,
// and apply the policy to every function, recording each decision.
func (e *Engine) AutoscaleTick(ctx context.Context, st autoscale.Settings, prev *Snapshot) (TickResult, error) {
	var res TickResult
	lost, err := e.store.MarkLost(ctx, e.Now(), runnerAlive)
	if err != nil {
		return res, err
	}
	res.Lost = len(lost)
	if err := e.markSilent(ctx); err != nil {
		return res, err
	}
	rows, err := e.store.ListInstances(ctx, "")
	if err != nil {
		return res, err
	}
	for _, r := range rows {
		if r.State != store.InstanceReady {
			continue
		}
		p, err := e.ProviderFor(ctx, r.Provider)
		if err == nil && !p.Alive(r.Instance) {
			_ = e.store.RemoveInstance(ctx, r.ID)
			res.Events = append(res.Events, e.event(ctx, r.Function, r.ID, "reconcile", "the instance is gone (exited when idle, or deleted)", "forgotten"))
		}
	}
	views, err := e.Sample(ctx, prev)
	if err != nil {
		return res, err
	}
	snap, err := e.Snapshot(ctx, views)
	if err != nil {
		return res, err
	}
	res.Snapshot = snap
	fns, err := e.store.ListFunctions(ctx, "", false)
	if err != nil {
		return res, err
	}
	// A clustered server's watcher sees the workers' instances too (their
	// heartbeats' readings, recorded as usage samples).
	remote, err := e.remoteInstances(ctx, fns)
	if err != nil {
		return res, err
	}
	now := e.Now()
	look := max(st.Window, st.StableWindow, st.PanicWindow) + time.Second
	samples, err := e.store.SamplesSince(ctx, now.Add(-look))
	if err != nil {
		return res, err
	}
	cpusOf := map[string]int{}
	for _, r := range rows {
		cpusOf[r.ID] = r.CPUs
	}
	cfgOf := map[string]store.Function{}
	for _, f := range fns {
		cfgOf[f.Name] = f
	}
	for _, in := range remote {
		cpusOf[in.ID] = cfgOf[in.Function].Current.Config.CPUs
	}
	byInst := map[string][]autoscale.Sample{}
	for _, x := range samples {
		cpus := max(cpusOf[x.Instance], 1)
		mem := 0.0
		if x.MemTotal > 0 {
			mem = float64(x.MemUsed) / float64(x.MemTotal)
		}
		byInst[x.Instance] = append(byInst[x.Instance], autoscale.Sample{Time: x.Time, CPU: x.CPUPct / 100 / float64(cpus), Memory: mem, InFlight: x.InFlight})
	}
	resized := map[string]time.Time{}
	if evs, err := e.store.ScaleEvents(ctx, "", now.Add(-st.Window), 1000); err == nil {
		for _, ev := range evs {
			if ev.Kind == autoscale.Resize && resized[ev.Instance].Before(ev.Time) {
				resized[ev.Instance] = ev.Time
			}
		}
	}
	lastJobs, err := e.store.LastJobs(ctx, now)
	if err != nil {
		return res, err
	}
	rows, err = e.store.ListInstances(ctx, "")
	if err != nil {
		return res, err
	}
	for _, f := range fns {
		cfg := f.Current.Config
		af := autoscale.Function{Name: f.Name, MinInstances: cfg.MinInstances, MaxInstances: cfg.Instances(), LastJob: lastJobs[f.Name]}
		for _, r := range rows {
			if r.Function != f.Name || (r.State != store.InstanceReady && r.State != store.InstanceStarting) {
				continue
			}
			af.Instances = append(af.Instances, autoscale.Instance{ID: r.ID, CPUs: r.CPUs, MemoryMB: r.MemoryMB, DiskMB: r.DiskMB,
				Slots: r.Slots, InFlight: r.InFlight, Samples: byInst[r.ID], LastResize: resized[r.ID]})
		}
		for _, in := range remote {
			if in.Function == f.Name {
				af.Instances = append(af.Instances, autoscale.Instance{ID: in.ID, CPUs: cfg.CPUs, MemoryMB: cfg.MemoryMB, DiskMB: cfg.DiskMB,
					Slots: in.Slots, InFlight: in.InFlight, Samples: byInst[in.ID], LastResize: resized[in.ID]})
			}
		}
		fst := st
		if cfg.ScaleTarget > 0 {
			fst.Target = cfg.ScaleTarget
		}
		if cfg.ScaleIdleMS > 0 {
			fst.Idle = time.Duration(cfg.ScaleIdleMS) * time.Millisecond
		}
		for _, d := range autoscale.Decide(now, fst, af) {
			res.Events = append(res.Events, e.apply(ctx, f, d, rows, remote))
		}
	}
	return res, nil
}

func (e *Engine) event(ctx context.Context, fn, inst, kind, reason, outcome string) store.ScaleEvent {
	ev := store.ScaleEvent{Time: e.Now(), Function: fn, Instance: inst, Kind: kind, Reason: reason, Outcome: outcome}
	_ = e.store.AddScaleEvent(context.WithoutCancel(ctx), ev)
	return ev
}

// apply carries out one decision and records it.
func (e *Engine) apply(ctx context.Context, f store.Function, d autoscale.Decision, rows []store.InstanceRow, remote map[string]RemoteInstance) store.ScaleEvent {
	outcome := "done"
	fail := func(err error) { outcome = "failed: " + err.Error() }
	p, err := e.ProviderFor(ctx, f.Provider)
	if err != nil {
		return e.event(ctx, f.Name, d.Instance, d.Kind, d.Reason, "failed: "+err.Error())
	}
	find := func(id string) (store.InstanceRow, bool) {
		for _, r := range rows {
			if r.ID == id {
				return r, true
			}
		}
		return store.InstanceRow{}, false
	}
	inv := versionInvocation(f)
	pl := placement(p, f)
	switch d.Kind {
	case autoscale.Resize:
		r, ok := find(d.Instance)
		rs, can := p.(provider.Resizer)
		switch {
		case remote[d.Instance].Host != "":
			outcome = "skipped: the instance is on worker " + remote[d.Instance].Host + ", which does not resize instances"
		case !ok:
			outcome = "skipped: the instance is gone"
		case !can:
			outcome = "skipped: the " + p.Name() + " provider cannot resize an instance"
		default:
			// Drain: no new jobs, wait for the ones in flight, then resize.
			_ = e.store.SetInstanceState(ctx, r.ID, store.InstanceDraining, e.Now())
			e.drain(ctx, r.ID, f.Current.Config.Timeout()+5*time.Second)
			if err := rs.Resize(ctx, r.Instance, d.CPUs, d.MemoryMB, d.DiskMB); err != nil {
				fail(err)
			} else {
				_ = e.store.ResizeInstance(ctx, r.ID, d.CPUs, d.MemoryMB, d.DiskMB, e.Now())
			}
			_ = e.store.SetInstanceState(context.WithoutCancel(ctx), r.ID, store.InstanceReady, e.Now())
		}
	case autoscale.ScaleOut, autoscale.Warm:
		// On a cluster, each new instance goes where a cold start would.
		added, hosts, left, err := e.startRemote(ctx, f, d.Count)
		if err != nil {
			fail(err)
		}
		if left > 0 && added > 0 {
			hosts = append(hosts, e.cluster.host)
		}
		for i := 0; i < left; i++ {
			in, err := e.store.NewInstance(ctx, f.Name, pl, e.Now())
			if errors.Is(err, store.ErrAtMax) {
				break
			}
			if err != nil {
				fail(err)
				break
			}
			e.configure(ctx, p)
			up, err := p.Launch(ctx, in, inv)
			if err != nil {
				_ = e.store.RemoveInstance(context.WithoutCancel(ctx), in.ID)
				fail(err)
				break
			}
			if err := e.store.InstanceUp(ctx, up, e.Now()); err != nil {
				fail(err)
				break
			}
			added++
		}
		if outcome == "done" {
			outcome = fmt.Sprintf("added %d", added) + onHosts(hosts)
		}
	case autoscale.ScaleIn, autoscale.ScaleZero:
		removed, hosts, err := e.stopRemote(ctx, f.Name, d, remote)
		if err != nil {
			fail(err)
		}
		for _, r := range rows {
			if r.Function != f.Name || r.InFlight > 0 || (d.Kind == autoscale.ScaleIn && r.ID != d.Instance) {
				continue
			}
			if err := p.Stop(ctx, r.Instance); err != nil {
				fail(err)
				continue
			}
			_ = e.store.RemoveInstance(ctx, r.ID)
			removed++
			if len(hosts) > 0 {
				hosts = append(hosts, e.cluster.host)
			}
		}
		if outcome == "done" {
			outcome = fmt.Sprintf("removed %d", removed) + onHosts(hosts)
		}
	}
	return e.event(ctx, f.Name, d.Instance, d.Kind, d.Reason, outcome)
}

// drain waits until an instance has no job in flight, or gives up.
func (e *Engine) drain(ctx context.Context, id string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rows, err := e.store.ListInstances(ctx, "")
		if err != nil {
			return
		}
		busy := false
		for _, r := range rows {
			busy = busy || (r.ID == id && r.InFlight > 0)
		}
		if !busy {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
