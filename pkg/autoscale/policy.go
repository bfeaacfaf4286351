// Package autoscale is the scaling policy: samples and a clock in,
// decisions out. It does nothing itself; the watcher applies what it
// decides and records each decision as a scale event.
package autoscale

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Settings tune the policy (faas config autoscale.*).
type Settings struct {
	// Vertical: CPU or memory at or above Threshold (0–1) for the whole
	// Window doubles the instance, up to the ceilings, never twice inside
	// one Window.
	Threshold   float64
	Window      time.Duration
	MaxCPUs     int
	MaxMemoryMB int64
	MaxDiskMB   int64
	// Horizontal: jobs in flight per slot above Target over StableWindow
	// adds instances; PanicFactor × Target over PanicWindow adds them at
	// once; below Target over StableWindow removes idle ones.
	Target       float64
	StableWindow time.Duration
	PanicWindow  time.Duration
	PanicFactor  float64
	// Idle without jobs before scaling to zero (unless min_instances > 0).
	Idle time.Duration
}

// Defaults are Knative's windows (60 s stable, 6 s panic), the original
// rule (80 % for 5 min), and a 5-minute scale to zero.
func Defaults() Settings {
	return Settings{
		Threshold: 0.8, Window: 5 * time.Minute, MaxCPUs: 16, MaxMemoryMB: 16 * 1024, MaxDiskMB: 256 * 1024,
		Target: 0.7, StableWindow: 60 * time.Second, PanicWindow: 6 * time.Second, PanicFactor: 2,
		Idle: 5 * time.Minute,
	}
}

// Sample is one reading of an instance: CPU and memory as fractions of
// what it has, jobs in flight of its slots.
type Sample struct {
	Time     time.Time
	CPU      float64
	Memory   float64
	InFlight int
}

// Instance is an instance as the policy sees it.
type Instance struct {
	ID         string
	CPUs       int
	MemoryMB   int64
	DiskMB     int64
	Slots      int
	InFlight   int
	Samples    []Sample // oldest first
	LastResize time.Time
}

// Function is a function as the policy sees it.
type Function struct {
	Name         string
	MinInstances int
	MaxInstances int
	Instances    []Instance
	LastJob      time.Time // zero: none yet
}

// Decision kinds.
const (
	Resize    = "resize"
	ScaleOut  = "scale-out"
	ScaleIn   = "scale-in"
	ScaleZero = "scale-to-zero"
	Warm      = "warm-pool"
)

// Decision is one thing to do, with the numbers that caused it.
type Decision struct {
	Kind     string
	Function string
	Instance string // resize, scale-in
	Count    int    // scale-out, warm-pool: instances to add
	CPUs     int
	MemoryMB int64
	DiskMB   int64
	Reason   string
}

// window returns the samples within d before now, and whether they cover
// all of it (the oldest is at least d old).
func window(ss []Sample, now time.Time, d time.Duration) ([]Sample, bool) {
	from := now.Add(-d)
	var in []Sample
	covered := false
	for _, s := range ss {
		if !s.Time.After(from) {
			covered = true
		}
		if !s.Time.Before(from) {
			in = append(in, s)
		}
	}
	return in, covered && len(in) > 0
}

// Decide applies every rule to one function.
func Decide(now time.Time, st Settings, f Function) []Decision {
	var out []Decision
	// Scale to zero: nothing ran for Idle, and no floor.
	if f.MinInstances == 0 && len(f.Instances) > 0 && !f.LastJob.IsZero() && now.Sub(f.LastJob) >= st.Idle {
		busy := false
		for _, in := range f.Instances {
			busy = busy || in.InFlight > 0
		}
		if !busy {
			return []Decision{{Kind: ScaleZero, Function: f.Name, Count: len(f.Instances),
				Reason: fmt.Sprintf("no job for %s (idle after %s)", now.Sub(f.LastJob).Round(time.Second), st.Idle)}}
		}
	}
	// Warm pool.
	if n := len(f.Instances); n < f.MinInstances {
		out = append(out, Decision{Kind: Warm, Function: f.Name, Count: f.MinInstances - n,
			Reason: fmt.Sprintf("%d instances, min_instances %d", n, f.MinInstances)})
	}
	for _, in := range f.Instances {
		if d, ok := vertical(now, st, f.Name, in); ok {
			out = append(out, d)
		}
	}
	if d, ok := horizontal(now, st, f); ok {
		out = append(out, d)
	}
	return out
}

func vertical(now time.Time, st Settings, fn string, in Instance) (Decision, bool) {
	ss, covered := window(in.Samples, now, st.Window)
	if !covered || (!in.LastResize.IsZero() && now.Sub(in.LastResize) < st.Window) {
		return Decision{}, false
	}
	minCPU, minMem := math.Inf(1), math.Inf(1)
	for _, s := range ss {
		minCPU, minMem = math.Min(minCPU, s.CPU), math.Min(minMem, s.Memory)
	}
	var what string
	switch {
	case minCPU >= st.Threshold:
		what = fmt.Sprintf("CPU ≥ %.0f%% for %s (lowest %.0f%%)", st.Threshold*100, st.Window, minCPU*100)
	case minMem >= st.Threshold:
		what = fmt.Sprintf("memory ≥ %.0f%% for %s (lowest %.0f%%)", st.Threshold*100, st.Window, minMem*100)
	default:
		return Decision{}, false
	}
	cpus, mem, disk := min(in.CPUs*2, st.MaxCPUs), min(in.MemoryMB*2, st.MaxMemoryMB), min(in.DiskMB*2, st.MaxDiskMB)
	if cpus <= in.CPUs && mem <= in.MemoryMB && disk <= in.DiskMB {
		return Decision{}, false // at the ceiling
	}
	return Decision{Kind: Resize, Function: fn, Instance: in.ID, CPUs: max(cpus, in.CPUs), MemoryMB: max(mem, in.MemoryMB), DiskMB: max(disk, in.DiskMB),
		Reason: fmt.Sprintf("%s: %d→%d vCPUs, %d→%d MiB, %d→%d MiB disk", what, in.CPUs, max(cpus, in.CPUs), in.MemoryMB, max(mem, in.MemoryMB), in.DiskMB, max(disk, in.DiskMB))}, true
}

// perSlot is the mean over a window of the function's jobs in flight per
// slot, summed across instances at each sample time (one tick samples all
// instances at the same time).
func perSlot(now time.Time, f Function, d time.Duration) (float64, bool) {
	totals := map[int64]float64{}
	slots := 0
	coveredAll := len(f.Instances) > 0
	for _, in := range f.Instances {
		slots += max(in.Slots, 1)
		ss, covered := window(in.Samples, now, d)
		coveredAll = coveredAll && covered
		for _, s := range ss {
			totals[s.Time.UnixMilli()] += float64(s.InFlight)
		}
	}
	if !coveredAll || len(totals) == 0 {
		return 0, false
	}
	sum := 0.0
	for _, v := range totals {
		sum += v
	}
	return sum / float64(len(totals)) / float64(slots), true
}

func horizontal(now time.Time, st Settings, f Function) (Decision, bool) {
	n := len(f.Instances)
	if n == 0 {
		return Decision{}, false
	}
	desired := func(load float64) int {
		return int(math.Ceil(float64(n) * load / st.Target))
	}
	if p, ok := perSlot(now, f, st.PanicWindow); ok && p >= st.PanicFactor*st.Target && n < f.MaxInstances {
		add := min(max(desired(p), n+1), f.MaxInstances) - n
		return Decision{Kind: ScaleOut, Function: f.Name, Count: add,
			Reason: fmt.Sprintf("panic: %.2f jobs per slot over %s ≥ %.2f", p, st.PanicWindow, st.PanicFactor*st.Target)}, true
	}
	load, ok := perSlot(now, f, st.StableWindow)
	if !ok {
		return Decision{}, false
	}
	switch {
	case load > st.Target && n < f.MaxInstances:
		add := min(max(desired(load), n+1), f.MaxInstances) - n
		return Decision{Kind: ScaleOut, Function: f.Name, Count: add,
			Reason: fmt.Sprintf("%.2f jobs per slot over %s > target %.2f", load, st.StableWindow, st.Target)}, true
	case load < st.Target && n > max(f.MinInstances, 1) && desired(load) < n:
		// Remove one idle instance at a time, the one with the fewest jobs
		// lately; never one with jobs in flight.
		cands := append([]Instance(nil), f.Instances...)
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].ID > cands[j].ID })
		for _, in := range cands {
			if in.InFlight == 0 {
				return Decision{Kind: ScaleIn, Function: f.Name, Instance: in.ID, Count: 1,
					Reason: fmt.Sprintf("%.2f jobs per slot over %s < target %.2f with %d instances", load, st.StableWindow, st.Target, n)}, true
			}
		}
	}
	return Decision{}, false
}
