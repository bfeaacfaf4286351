package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// PruneJobs deletes the oldest ended jobs queued before a time, a batch at
// a time, and counts them dry; jobs still waiting or running stay whatever
// their age, and the bill of the pruned days does not change.
func testPruneJobs(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	finish := func(id string, at time.Time, status string) {
		t.Helper()
		j := runningJob(id, "fn", at)
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		j.Status, j.EndedAt, j.Duration, j.BilledMS, j.RequestPico, j.ComputePico = status, at.Add(time.Second), time.Second, 1000, 200_000, 16_667
		j.Result, j.Logs = []byte(`"hello"`), []byte("log line\n")
		if err := s.FinishJob(ctx, j, false); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range []string{store.StatusCompleted, store.StatusFailed, store.StatusTimeout, store.StatusCompleted} {
		finish("old-"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute), st)
	}
	finish("new", t0.Add(48*time.Hour), store.StatusCompleted)
	if err := s.StartJob(ctx, runningJob("old-running", "fn", t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueJob(ctx, store.Job{ID: "old-waiting", Function: "fn", Version: 1, QueuedAt: t0, MemoryMB: 128, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	month := store.BillFilter{From: t0.AddDate(0, 0, -2), To: t0.AddDate(0, 0, 5)}
	billBefore, err := s.Bill(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	before := t0.Add(24 * time.Hour)
	perJob := int64(len(`"hello"`) + len("log line\n"))
	if p, err := s.PruneJobs(ctx, before, 0, true); err != nil || p != (store.Pruned{Jobs: 4, Bytes: 4 * perJob}) {
		t.Fatalf("dry PruneJobs = %+v, %v; want 4 jobs, %d bytes", p, err, 4*perJob)
	}
	if p, err := s.PruneJobs(ctx, before, 3, false); err != nil || p != (store.Pruned{Jobs: 3, Bytes: 3 * perJob}) {
		t.Fatalf("PruneJobs(limit 3) = %+v, %v; want the 3 oldest", p, err)
	}
	if _, err := s.GetJob(ctx, "old-d"); err != nil {
		t.Errorf("the fourth oldest went in a batch of 3: %v", err)
	}
	if p, err := s.PruneJobs(ctx, before, 3, false); err != nil || p.Jobs != 1 {
		t.Fatalf("second PruneJobs = %+v, %v; want 1", p, err)
	}
	if p, err := s.PruneJobs(ctx, before, 3, false); err != nil || p.Jobs != 0 {
		t.Fatalf("third PruneJobs = %+v, %v; want none", p, err)
	}
	jobs, err := s.ListJobs(ctx, store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, j := range jobs {
		left = append(left, j.ID)
	}
	if want := []string{"new", "old-waiting", "old-running"}; !reflect.DeepEqual(left, want) && !reflect.DeepEqual(left, []string{"new", "old-running", "old-waiting"}) {
		t.Errorf("after pruning: %q, want %q", left, want)
	}
	if billAfter, err := s.Bill(ctx, month); err != nil || !reflect.DeepEqual(billAfter, billBefore) {
		t.Errorf("the bill changed with the prune:\n%+v\n%+v (%v)", billAfter, billBefore, err)
	}
}
