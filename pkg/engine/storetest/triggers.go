package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// A schedule's tick is claimed once however many claim it at once, with
// its job queued in the same transaction; LastTicks remembers it.
func testClaimTickOnce(t *testing.T, b Backend) {
	s, again := b.New(t)
	ctx := context.Background()
	other, err := again()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tick := t0.Add(5 * time.Minute)
	var wg sync.WaitGroup
	claims := make([]bool, 8)
	for i := range claims {
		st := Store(s)
		if i%2 == 1 {
			st = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := queued("tick"+string(rune('a'+i)), "", tick, 0)
			j.Trigger = "schedule"
			ok, err := st.ClaimTick(ctx, "hello", tick, j, "", t0)
			if err != nil {
				t.Error(err)
			}
			claims[i] = ok
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range claims {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d claims of one tick, want 1", n)
	}
	if counts, _ := s.CountJobs(ctx); counts[store.StatusWaiting] != 1 {
		t.Fatalf("jobs queued for one tick: %v", counts)
	}
	last, err := s.LastTicks(ctx)
	if err != nil || !last["hello"].Equal(tick) {
		t.Fatalf("LastTicks = %v, %v; want hello at %v", last, err, tick)
	}
	// A tick that could not queue a job is claimed all the same.
	if ok, err := s.ClaimTick(ctx, "hello", tick.Add(time.Minute), store.Job{}, "over budget", t0); err != nil || !ok {
		t.Fatalf("claim without a job = %v, %v", ok, err)
	}
}

// A failed job's destination is queued once; its callback's outcome is
// kept on it.
func testDestinationAndCallback(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	failed := queued("failed1", "ada", t0, 0)
	failed.Callback = store.Callback{URL: "http://127.0.0.1:9/hook", Status: "pending"}
	if err := s.EnqueueJob(ctx, failed); err != nil {
		t.Fatal(err)
	}
	dest := queued("audit1", "ada", t0.Add(time.Second), 0)
	dest.Function, dest.Trigger = "audit", "on-failure"
	for i, want := range []bool{true, false} {
		ok, err := s.ClaimDestination(ctx, "failed1", dest, "")
		if err != nil || ok != want {
			t.Fatalf("ClaimDestination #%d = %v, %v; want %v", i+1, ok, err, want)
		}
	}
	if err := s.RecordCallback(ctx, "failed1", store.Callback{Status: "delivered", Attempts: 2, Error: ""}); err != nil {
		t.Fatal(err)
	}
	j, err := s.GetJob(ctx, "failed1")
	if err != nil {
		t.Fatal(err)
	}
	if j.DestinationJob != "audit1" || j.Callback.URL != failed.Callback.URL || j.Callback.Status != "delivered" || j.Callback.Attempts != 2 {
		t.Fatalf("failed job = destination %q, callback %+v", j.DestinationJob, j.Callback)
	}
	a, err := s.GetJob(ctx, "audit1")
	if err != nil || a.Trigger != "on-failure" || a.Status != store.StatusWaiting {
		t.Fatalf("destination job = %+v, %v", a, err)
	}
}
