package autoscale

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// series makes samples every 10 s from `from` ago to now with the given
// CPU, memory and in-flight values.
func series(now time.Time, from time.Duration, cpu, mem float64, inflight int) []Sample {
	var ss []Sample
	for d := from; d >= 0; d -= 10 * time.Second {
		ss = append(ss, Sample{Time: now.Add(-d), CPU: cpu, Memory: mem, InFlight: inflight})
	}
	return ss
}

func vm(id string, ss []Sample) Instance {
	return Instance{ID: id, CPUs: 1, MemoryMB: 512, DiskMB: 5120, Slots: 1, Samples: ss}
}

func kinds(ds []Decision) string {
	var k []string
	for _, d := range ds {
		k = append(k, d.Kind)
	}
	return strings.Join(k, ",")
}

func TestVertical(t *testing.T) {
	st := Defaults()
	now := t0
	dip := series(now, 5*time.Minute, 0.95, 0.1, 0)
	dip[10].CPU = 0.5
	cases := []struct {
		name string
		in   Instance
		want string
	}{
		{"cpu above for the whole window", vm("a", series(now, 5*time.Minute, 0.9, 0.1, 0)), Resize},
		{"exactly at the threshold", vm("a", series(now, 5*time.Minute, 0.8, 0.1, 0)), Resize},
		{"memory above", vm("a", series(now, 5*time.Minute, 0.1, 0.85, 0)), Resize},
		{"just under", vm("a", series(now, 5*time.Minute, 0.79, 0.79, 0)), ""},
		{"a dip inside the window", vm("a", dip), ""},
		{"window not yet covered", vm("a", series(now, 4*time.Minute, 0.95, 0.1, 0)), ""},
		{"cool-down: resized inside the window", func() Instance {
			in := vm("a", series(now, 5*time.Minute, 0.95, 0.1, 0))
			in.LastResize = now.Add(-4 * time.Minute)
			return in
		}(), ""},
		{"at the ceiling", func() Instance {
			in := vm("a", series(now, 5*time.Minute, 0.95, 0.1, 0))
			in.CPUs, in.MemoryMB, in.DiskMB = st.MaxCPUs, st.MaxMemoryMB, st.MaxDiskMB
			return in
		}(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := Decide(now, st, Function{Name: "f", MaxInstances: 1, Instances: []Instance{c.in}, LastJob: now})
			if got := kinds(ds); got != c.want {
				t.Fatalf("decisions %q (%+v), want %q", got, ds, c.want)
			}
			if c.want == Resize && (ds[0].CPUs != 2 || ds[0].MemoryMB != 1024 || ds[0].DiskMB != 10240) {
				t.Fatalf("resize to %+v, want doubled", ds[0])
			}
		})
	}
	// Near the ceiling, doubling stops at it.
	in := vm("a", series(now, 5*time.Minute, 0.95, 0.1, 0))
	in.CPUs = 12
	ds := Decide(now, st, Function{Name: "f", MaxInstances: 1, Instances: []Instance{in}, LastJob: now})
	if len(ds) != 1 || ds[0].CPUs != st.MaxCPUs {
		t.Fatalf("near the ceiling: %+v", ds)
	}
}

func TestHorizontal(t *testing.T) {
	st := Defaults()
	now := t0
	busy := func(id string, n int) Instance {
		in := vm(id, series(now, 2*time.Minute, 0.1, 0.1, n))
		in.InFlight = n
		return in
	}
	cases := []struct {
		name  string
		f     Function
		want  string
		count int
	}{
		{"above target over the stable window", Function{Name: "f", MaxInstances: 10, Instances: []Instance{busy("a", 1), busy("b", 1)}, LastJob: now}, ScaleOut, 1},
		{"the ceiling: max_instances", Function{Name: "f", MaxInstances: 2, Instances: []Instance{busy("a", 1), busy("b", 1)}, LastJob: now}, "", 0},
		{"a panic burst", Function{Name: "f", MaxInstances: 10, Instances: []Instance{func() Instance {
			in := vm("a", append(series(now.Add(-7*time.Second), 2*time.Minute, 0.1, 0.1, 0), Sample{Time: now.Add(-6 * time.Second), InFlight: 4}, Sample{Time: now, InFlight: 4}))
			in.Slots = 2
			return in
		}()}, LastJob: now}, ScaleOut, 2},
		{"below target: one idle instance goes", Function{Name: "f", MaxInstances: 10, Instances: []Instance{busy("a", 0), busy("b", 0), busy("c", 0)}, LastJob: now}, ScaleIn, 1},
		{"never below min_instances", Function{Name: "f", MinInstances: 2, MaxInstances: 10, Instances: []Instance{busy("a", 0), busy("b", 0)}, LastJob: now}, "", 0},
		{"never one with jobs in flight", Function{Name: "f", MaxInstances: 10, Instances: []Instance{
			func() Instance { in := busy("a", 0); in.InFlight = 1; return in }(),
			func() Instance { in := busy("b", 0); in.InFlight = 1; return in }(),
		}, LastJob: now}, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := Decide(now, st, c.f)
			if got := kinds(ds); got != c.want {
				t.Fatalf("decisions %q (%+v), want %q", got, ds, c.want)
			}
			if c.want != "" && ds[0].Count != c.count {
				t.Fatalf("count %d, want %d (%s)", ds[0].Count, c.count, ds[0].Reason)
			}
			if c.want == ScaleIn && ds[0].Instance != "c" {
				t.Fatalf("scale-in chose %s", ds[0].Instance)
			}
		})
	}
}

// Samples taken several times a second are not added up into one.
func TestLoadIsNotSummedWithinASecond(t *testing.T) {
	st := Defaults()
	st.PanicWindow, st.StableWindow = time.Second, time.Second
	now := t0
	var ss []Sample
	for d := 1200 * time.Millisecond; d >= 0; d -= 200 * time.Millisecond {
		ss = append(ss, Sample{Time: now.Add(-d), InFlight: 1})
	}
	in := vm("a", ss)
	in.Slots = 2
	// One job on two slots is 0.5 per slot: under the 0.7 target, no panic.
	if ds := Decide(now, st, Function{Name: "f", MaxInstances: 5, Instances: []Instance{in}, LastJob: now}); len(ds) != 0 {
		t.Fatalf("decisions %+v", ds)
	}
}

func TestScaleToZeroAndWarmPool(t *testing.T) {
	st := Defaults()
	now := t0
	idle := vm("a", series(now, time.Minute, 0, 0, 0))
	cases := []struct {
		name string
		f    Function
		want string
	}{
		{"idle for the idle time", Function{Name: "f", MaxInstances: 3, Instances: []Instance{idle}, LastJob: now.Add(-st.Idle)}, ScaleZero},
		{"idle, but not long enough", Function{Name: "f", MaxInstances: 3, Instances: []Instance{idle}, LastJob: now.Add(-st.Idle + time.Second)}, ""},
		{"min_instances keeps them", Function{Name: "f", MinInstances: 1, MaxInstances: 3, Instances: []Instance{idle}, LastJob: now.Add(-time.Hour)}, ""},
		{"a job in flight keeps them", Function{Name: "f", MaxInstances: 3, Instances: []Instance{func() Instance { in := idle; in.InFlight = 1; return in }()}, LastJob: now.Add(-time.Hour)}, ""},
		{"the warm pool is filled", Function{Name: "f", MinInstances: 2, MaxInstances: 3, LastJob: now.Add(-time.Hour)}, Warm},
		{"nothing to do without instances", Function{Name: "f", MaxInstances: 3}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := Decide(now, st, c.f)
			if got := kinds(ds); got != c.want {
				t.Fatalf("decisions %q (%+v), want %q", got, ds, c.want)
			}
			if c.want == Warm && ds[0].Count != 2 {
				t.Fatalf("warm pool adds %d", ds[0].Count)
			}
		})
	}
}
