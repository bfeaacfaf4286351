package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/autoscale"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// TestWatcherScalesWorkers: the watcher of a clustered server keeps
// min_instances warm on the workers (this host takes no calls), records
// their heartbeats' readings as usage samples, and scales in an idle
// instance on the worker that holds it.
func TestWatcherScalesWorkers(t *testing.T) {
	tc := newTestCluster(t, []string{"w1", "w2"}, 2, 0)
	ctx := context.Background()
	here := &fakeProvider{}
	tc.eng.SetProvider(here)
	tc.eng.SetRemote(tc.placer, "server", 0)
	deploy := func(minInstances int) {
		t.Helper()
		cfg := function.DefaultConfig()
		cfg.MinInstances = minInstances
		if _, err := tc.eng.Deploy(ctx, engine.DeployRequest{Name: "hello", Filename: "hello.py", Code: tc.code, Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	deploy(2)
	st := autoscale.Defaults()
	st.StableWindow, st.PanicWindow = 300*time.Millisecond, 300*time.Millisecond
	start := time.Now()

	res, err := tc.eng.AutoscaleTick(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var warm *store.ScaleEvent
	for i, ev := range res.Events {
		if ev.Kind == autoscale.Warm {
			warm = &res.Events[i]
		}
	}
	if warm == nil || !strings.HasPrefix(warm.Outcome, "added 2 on w") {
		t.Fatalf("first tick: %+v, want a warm-pool event adding 2 on workers", res.Events)
	}
	if n := here.launches.Load(); n != 0 {
		t.Fatalf("%d instances launched on the server's host, want none (capacity 0)", n)
	}
	remote := func() []engine.RemoteInstance {
		var out []engine.RemoteInstance
		for _, in := range tc.placer.RemoteInstances() {
			if in.Function == "hello" {
				out = append(out, in)
			}
		}
		return out
	}
	await(t, "2 instances in the workers' heartbeats", func() bool { return len(remote()) == 2 })
	if res, err = tc.eng.AutoscaleTick(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	for _, ev := range res.Events {
		if ev.Kind == autoscale.Warm || ev.Kind == autoscale.ScaleOut {
			t.Fatalf("second tick added again: %+v", ev)
		}
	}
	// The heartbeats' readings are usage samples (faas top's history).
	samples, err := tc.eng.Usage(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	sampled := map[string]bool{}
	for _, s := range samples {
		sampled[s.Instance] = true
	}
	for _, in := range remote() {
		if !sampled[in.ID] {
			t.Fatalf("no usage sample of %s on %s: %v", in.ID, in.Host, samples)
		}
	}

	// min_instances 1: once the stable window is covered, one idle
	// instance goes, on the worker holding it.
	deploy(1)
	var in *store.ScaleEvent
	await(t, "a scale-in", func() bool {
		res, err := tc.eng.AutoscaleTick(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range res.Events {
			if ev.Kind == autoscale.ScaleIn {
				in = &res.Events[i]
			}
		}
		return in != nil
	})
	if !strings.HasPrefix(in.Outcome, "removed 1 on w") {
		t.Fatalf("scale-in: %+v, want removed 1 on a worker", *in)
	}
	await(t, "1 instance left on the workers", func() bool { return len(remote()) == 1 })
}

// await polls cond until it holds, or fails the test after 10 s.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}
