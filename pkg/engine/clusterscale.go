package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/autoscale"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// RemoteInstance is one of another host's instances, as that host's last
// heartbeat told it.
type RemoteInstance struct {
	Host     string
	ID       string
	Function string
	Version  int
	Provider string
	Slots    int
	InFlight int
	RSSBytes int64
	CPUPct   float64
}

// Scaler is a Remote through which the watcher scales the whole cluster:
// it sees the other hosts' instances and starts and stops them there.
type Scaler interface {
	// RemoteInstances are the instances of the workers heard from.
	RemoteInstances() []RemoteInstance
	// StartInstance starts an idle instance of inv's version where a cold
	// start would go (the worker with the most free capacity), and says
	// which worker and instance; ErrRunHere when this host (localFree
	// free slots) is the better place.
	StartInstance(ctx context.Context, inv faastype.Invocation, localFree int) (host, id string, err error)
	// StopInstance stops a worker's idle instance.
	StopInstance(ctx context.Context, host, id string) error
}

// scaler is the cluster's Scaler while another host's worker is there.
func (e *Engine) scaler() Scaler {
	if !e.clustered() {
		return nil
	}
	s, _ := e.cluster.remote.(Scaler)
	return s
}

// remoteInstances records a usage sample of each worker's instance (from
// its heartbeat) and returns them, by id.
func (e *Engine) remoteInstances(ctx context.Context, fns []store.Function) (map[string]RemoteInstance, error) {
	sc := e.scaler()
	if sc == nil {
		return nil, nil
	}
	memOf := map[string]int64{}
	for _, f := range fns {
		memOf[f.Name] = f.Current.Config.MemoryMB << 20
	}
	now := e.Now()
	out := map[string]RemoteInstance{}
	var samples []store.Sample
	for _, in := range sc.RemoteInstances() {
		out[in.ID] = in
		samples = append(samples, store.Sample{Time: now, Instance: in.ID, Function: in.Function, CPUPct: in.CPUPct,
			MemUsed: in.RSSBytes, MemTotal: memOf[in.Function], InFlight: in.InFlight,
			Load: float64(in.InFlight) / float64(max(in.Slots, 1))})
	}
	return out, e.store.AddSamples(ctx, samples)
}

// startRemote adds up to n instances of f where the cluster's cold-start
// choice puts them; it returns how many it added on workers, the hosts,
// and how many are left for this host to add.
func (e *Engine) startRemote(ctx context.Context, f store.Function, n int) (added int, hosts []string, left int, err error) {
	sc := e.scaler()
	if sc == nil {
		return 0, nil, n, nil
	}
	inv := versionInvocation(f)
	for i := 0; i < n; i++ {
		running, capacity := e.LocalLoad()
		host, id, err := sc.StartInstance(ctx, inv, capacity-running)
		if errors.Is(err, ErrRunHere) {
			return added, hosts, n - i, nil
		}
		if err != nil {
			return added, hosts, 0, err
		}
		added++
		hosts = append(hosts, host+"/"+id)
	}
	return added, hosts, 0, nil
}

// stopRemote stops the idle worker instances of f a scale-in (the one
// named) or a scale to zero (every one) removes.
func (e *Engine) stopRemote(ctx context.Context, f string, d autoscale.Decision, remote map[string]RemoteInstance) (removed int, hosts []string, err error) {
	sc := e.scaler()
	if sc == nil {
		return 0, nil, nil
	}
	var errs []error
	for _, in := range remote {
		if in.Function != f || in.InFlight > 0 || (d.Kind == autoscale.ScaleIn && in.ID != d.Instance) {
			continue
		}
		if err := sc.StopInstance(ctx, in.Host, in.ID); err != nil {
			errs = append(errs, fmt.Errorf("%s on %s: %w", in.ID, in.Host, err))
			continue
		}
		removed++
		hosts = append(hosts, in.Host)
	}
	return removed, hosts, errors.Join(errs...)
}

// onHosts says where a decision acted: " on w1, w2", or "".
func onHosts(hosts []string) string {
	if len(hosts) == 0 {
		return ""
	}
	return " on " + strings.Join(hosts, ", ")
}

// clusterTicks is the file a clustered server refreshes each second while
// workers are there: the watcher process leaves the scaling to it.
func clusterTicks(home string) string { return filepath.Join(home, "run", "autoscale-cluster.json") }

// clusterTicking says whether a clustered server of this home scales it
// (refreshed its file within the last 3 s).
func clusterTicking(home string) bool {
	fi, err := os.Stat(clusterTicks(home))
	return err == nil && time.Since(fi.ModTime()) < 3*time.Second
}

// RunClusterWatcher is a clustered server's share of the watcher, until
// ctx ends: while other hosts' workers are there it says so each second
// (the watcher process then leaves the scaling to it), and while the
// watcher runs (faas autoscale start) it ticks in its place, as it alone
// sees the workers' instances and can start and stop them.
func (e *Engine) RunClusterWatcher(ctx context.Context, lg *slog.Logger) {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	lg = lg.With("component", "autoscale")
	var prev *Snapshot
	var last time.Time
	every := time.NewTicker(time.Second)
	defer every.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-every.C:
		}
		if e.scaler() == nil {
			continue
		}
		_ = faashome.WriteJSON(clusterTicks(e.Home), map[string]any{"pid": os.Getpid(), "time": e.Now()})
		settings, tick, err := e.AutoscaleSettings(ctx)
		if err != nil || time.Since(last) < tick || !ReadWatcher(e.Home).Running {
			continue
		}
		last = time.Now()
		res, err := e.AutoscaleTick(context.WithoutCancel(ctx), settings, prev)
		if err != nil {
			lg.Error("tick failed", "error", err.Error())
			continue
		}
		prev = &res.Snapshot
		for _, ev := range res.Events {
			lg.Info("scale event", "kind", ev.Kind, "function", ev.Function, "instance", ev.Instance, "reason", ev.Reason, "outcome", ev.Outcome)
		}
	}
}
