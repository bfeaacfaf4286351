package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// testHandJob: a job handed to another host's worker keeps its host, has
// no runner pid on this host, and is not marked lost by this host's
// reconciler however dead its process ids look; a job run here keeps its
// runner; only a running job can be handed.
func testHandJob(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	for _, id := range []string{"remote", "here"} {
		if err := s.StartJob(ctx, runningJob(id, "fn", t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.HandJob(ctx, "remote", "w1", true); err != nil {
		t.Fatal(err)
	}
	if err := s.HandJob(ctx, "here", "server", false); err != nil {
		t.Fatal(err)
	}
	ids, err := s.MarkLost(ctx, t0.Add(time.Minute), func(int, int64) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "here" {
		t.Errorf("MarkLost = %q, want only [here]: a handed job is its worker's", ids)
	}
	got, err := s.GetJob(ctx, "remote")
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "w1" || got.RunnerPID != 0 || got.Status != store.StatusRunning {
		t.Errorf("handed job: host %q pid %d status %s, want w1, 0, running", got.Host, got.RunnerPID, got.Status)
	}
	jobs, err := s.ListJobs(ctx, store.JobFilter{Status: store.StatusRunning})
	if err != nil || len(jobs) != 1 || jobs[0].Host != "w1" {
		t.Errorf("ListJobs(running) = %+v, %v; want the handed job with its host", jobs, err)
	}
	got.Status = store.StatusCompleted
	if err := s.FinishJob(ctx, got, false); err != nil {
		t.Fatal(err)
	}
	if err := s.HandJob(ctx, "remote", "w2", true); err == nil {
		t.Error("HandJob of an ended job succeeded")
	}
	if got, _ := s.GetJob(ctx, "remote"); got.Host != "w1" {
		t.Errorf("host after the job ended = %q, want w1", got.Host)
	}
}
