package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// BenchmarkClaimFinish is the store's share of a synchronous invoke: claim
// and place a job, then record its outcome, from 8 goroutines.
func BenchmarkClaimFinish(b *testing.B) {
	s, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	pl := store.Placement{Provider: "local", Slots: 1000, MaxInstances: 1, MemoryMB: 128, CPUs: 1, Version: 1}
	var mu sync.Mutex
	n := 0
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprintf("b%09d", n)
			mu.Unlock()
			j := store.Job{ID: id, Function: "f", Version: 1, Status: store.StatusRunning, Provider: "local",
				QueuedAt: t0, StartedAt: t0, MemoryMB: 128, RunnerPID: 1, RunnerStart: 1}
			if _, err := s.ClaimJob(ctx, j, pl); err != nil {
				b.Fatal(err)
			}
			j.Status, j.EndedAt, j.Duration, j.BilledMS, j.RequestPico = store.StatusCompleted, t0, time.Millisecond, 1, 200_000
			if err := s.FinishJob(ctx, j, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
