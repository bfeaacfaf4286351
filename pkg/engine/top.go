package engine

import (
	"context"
	"sort"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// InstanceView is one instance in a snapshot.
type InstanceView struct {
	ID          string
	Function    string
	Provider    string
	State       string
	CPUs        int
	MemoryUsed  int64
	MemoryTotal int64
	DiskUsed    int64
	DiskTotal   int64
	CPUPct      float64
	Load        float64
	InFlight    int
	IdleS       float64
	Workers     int
	// Host is the cluster host it runs on ("" without a cluster).
	Host       string
	cpuSeconds float64
}

// FunctionView is one function in a snapshot.
type FunctionView struct {
	Name       string
	Version    int
	Instances  int
	PerMinute  float64
	Errors     int
	P50MS      float64
	P95MS      float64
	ColdStarts int
	CostPico   int64
	CostUSD    string
	// Spark counts invocations per minute over the window, oldest first.
	Spark []int
}

// WatcherView is the autoscale watcher's status.
type WatcherView struct {
	Running bool
	Note    string
}

// Snapshot is what `faas top` shows at one moment.
type Snapshot struct {
	Time      time.Time
	WindowS   int
	Instances []InstanceView
	Functions []FunctionView
	Watcher   WatcherView
	Events    []string
	// Hosts are the cluster's hosts (none without a cluster).
	Hosts []HostView
}

// topWindow is the activity a snapshot summarises.
const topWindow = 15 * time.Minute

// Top is what `faas top` does each time it looks: sample the instances,
// then summarise. prev, when given, turns CPU seconds into a CPU
// percentage over the interval.
func (e *Engine) Top(ctx context.Context, prev *Snapshot) (Snapshot, error) {
	views, err := e.Sample(ctx, prev)
	if err != nil {
		return Snapshot{}, err
	}
	return e.Snapshot(ctx, views)
}

// visibleFunctions is nil for an unscoped engine (every function is
// visible), else the set of the owner's functions.
func (e *Engine) visibleFunctions(ctx context.Context) (map[string]bool, error) {
	if !e.Scoped {
		return nil, nil
	}
	fns, err := e.store.ListFunctions(ctx, e.Owner, true)
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	for _, f := range fns {
		owned[f.Name] = true
	}
	return owned, nil
}

// Sample reads every visible instance (the agents' /stats, each on its
// own: a broken instance never hides the others) and records the readings
// as usage samples. It is the one step of top and of the watcher's tick
// that writes; Snapshot only reads. prev, when given, turns CPU seconds
// into a CPU percentage over the interval.
func (e *Engine) Sample(ctx context.Context, prev *Snapshot) ([]InstanceView, error) {
	now := e.Now()
	owned, err := e.visibleFunctions(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.ListInstances(ctx, "")
	if err != nil {
		return nil, err
	}
	prevCPU := map[string]float64{}
	if prev != nil {
		for _, in := range prev.Instances {
			prevCPU[in.ID] = in.cpuSeconds
		}
	}
	views := []InstanceView{}
	var samples []store.Sample
	for _, r := range rows {
		if owned != nil && !owned[r.Function] {
			continue
		}
		v := recordedView(r)
		p, perr := e.ProviderFor(ctx, r.Provider)
		reader, _ := p.(provider.StatsReader)
		if perr != nil {
			v.State = "unavailable"
		} else if r.State == store.InstanceReady && !p.Alive(r.Instance) {
			v.State = "stopped"
		} else if reader != nil && r.State == store.InstanceReady {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := reader.Stats(sctx, r.Instance)
			cancel()
			if err != nil {
				v.State = "unreachable"
			} else {
				v.MemoryUsed, v.DiskUsed, v.InFlight, v.Workers = st.RSSBytes, st.DiskUsed, st.InFlight, st.Workers
				if st.MemoryTotal > 0 {
					v.MemoryTotal = st.MemoryTotal
				}
				if st.DiskTotal > 0 {
					v.DiskTotal = st.DiskTotal
				}
				v.IdleS = st.IdleS
				v.cpuSeconds = st.CPUSeconds
				if last, ok := prevCPU[r.ID]; ok && prev != nil && now.After(prev.Time) {
					v.CPUPct = (st.CPUSeconds - last) / now.Sub(prev.Time).Seconds() * 100
				} else if st.UptimeS > 0 {
					v.CPUPct = st.CPUSeconds / st.UptimeS * 100
				}
				v.Load = float64(st.InFlight) / float64(max(r.Slots, 1))
			}
		}
		views = append(views, v)
		samples = append(samples, store.Sample{Time: now, Instance: v.ID, Function: v.Function, CPUPct: v.CPUPct,
			MemUsed: v.MemoryUsed, MemTotal: v.MemoryTotal, DiskUsed: v.DiskUsed, DiskTotal: v.DiskTotal, Load: v.Load, InFlight: v.InFlight})
	}
	return views, e.store.AddSamples(ctx, samples)
}

// recordedView is an instance as its row records it, before any reading.
func recordedView(r store.InstanceRow) InstanceView {
	return InstanceView{ID: r.ID, Function: r.Function, Provider: r.Provider, State: r.State, CPUs: r.CPUs,
		MemoryTotal: r.MemoryMB << 20 * int64(max(r.Slots, 1)), DiskTotal: r.DiskMB << 20, InFlight: r.InFlight}
}

// Snapshot summarises the instances as Sample read them (nil: as their
// rows record them, without usage) and the functions' recent jobs. It
// writes nothing and asks no instance anything.
func (e *Engine) Snapshot(ctx context.Context, instances []InstanceView) (Snapshot, error) {
	now := e.Now()
	snap := Snapshot{Time: now, WindowS: int(topWindow.Seconds()), Instances: []InstanceView{}, Functions: []FunctionView{},
		Watcher: WatcherView{}, Events: []string{}}
	if w := ReadWatcher(e.Home); w.Running {
		snap.Watcher = WatcherView{Running: true, Note: w.String()}
	} else {
		snap.Watcher.Note = "not running (faas autoscale start)"
	}
	// A scoped view shows only its owner's functions and their instances.
	owned, err := e.visibleFunctions(ctx)
	if err != nil {
		return snap, err
	}
	visible := func(fn string) bool { return owned == nil || owned[fn] }
	if evs, err := e.store.ScaleEvents(ctx, "", now.Add(-time.Hour), 5); err == nil {
		for _, ev := range evs {
			if !visible(ev.Function) {
				continue
			}
			snap.Events = append(snap.Events, ev.Time.Local().Format("15:04:05")+" "+ev.Kind+" "+ev.Function+" "+ev.Instance+": "+ev.Reason+" → "+ev.Outcome)
		}
	}
	if instances == nil {
		rows, err := e.store.ListInstances(ctx, "")
		if err != nil {
			return snap, err
		}
		for _, r := range rows {
			if visible(r.Function) {
				instances = append(instances, recordedView(r))
			}
		}
	}
	perFn := map[string]int{}
	for _, v := range instances {
		if v.State == store.InstanceReady || v.State == store.InstanceStarting {
			perFn[v.Function]++
		}
		snap.Instances = append(snap.Instances, v)
	}
	e.withHosts(&snap, visible)

	fns, err := e.store.ListFunctions(ctx, e.Owner, e.Scoped)
	if err != nil {
		return snap, err
	}
	acts, err := e.store.RecentActivity(ctx, now.Add(-topWindow))
	if err != nil {
		return snap, err
	}
	bill, err := e.Bill(ctx, BillRequest{})
	if err != nil {
		return snap, err
	}
	cost := map[string]int64{}
	for _, r := range bill.Rows {
		cost[r.Function] = r.RequestPico + r.ComputePico
	}
	byFn := map[string][]store.Activity{}
	for _, a := range acts {
		byFn[a.Function] = append(byFn[a.Function], a)
	}
	minutes := int(topWindow / time.Minute)
	for _, f := range fns {
		v := FunctionView{Name: f.Name, Version: f.Current.Version, Instances: perFn[f.Name], Spark: make([]int, minutes),
			CostPico: cost[f.Name], CostUSD: billing.Pico(cost[f.Name]).String()}
		var durs []time.Duration
		for _, a := range byFn[f.Name] {
			age := now.Sub(a.QueuedAt)
			if i := minutes - 1 - int(age/time.Minute); i >= 0 && i < minutes {
				v.Spark[i]++
			}
			if age <= time.Minute {
				v.PerMinute++
			}
			switch a.Status {
			case store.StatusFailed, store.StatusTimeout, store.StatusLost:
				v.Errors++
			}
			if a.Cold {
				v.ColdStarts++
			}
			if a.Status == store.StatusCompleted || a.Status == store.StatusFailed || a.Status == store.StatusTimeout {
				durs = append(durs, a.Duration)
			}
		}
		v.P50MS, v.P95MS = percentile(durs, 0.50), percentile(durs, 0.95)
		snap.Functions = append(snap.Functions, v)
	}
	return snap, nil
}

func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}
