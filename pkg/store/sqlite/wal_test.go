package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// Under steady writes and reads the WAL never resets by itself; a server's
// store keeps it under WALLimit (sampled: a little over while a checkpoint
// catches up), and a RESTART checkpoint starts it again from its beginning.
func TestServerStoreBoundsItsWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("writes thousands of jobs")
	}
	old := WALLimit
	WALLimit = 1 << 20
	if os.Getenv("WAL_BASELINE") != "" {
		WALLimit = 1 << 40
	}
	defer func() { WALLimit = old }()
	ctx := context.Background()
	home := t.TempDir()
	s, err := Open(ctx, home, BackgroundCheckpoints(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var peak atomic.Int64
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 { // readers that always hold a snapshot somewhere
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = s.ListJobs(ctx, store.JobFilter{Limit: 5})
				if fi, err := os.Stat(s.path + "-wal"); err == nil && fi.Size() > peak.Load() {
					peak.Store(fi.Size())
				}
			}
		}()
	}
	payload := make([]byte, 2048)
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 800 {
				j := store.Job{ID: fmt.Sprintf("w%d-%05d", w, i), Function: "f", Version: 1, Status: store.StatusRunning,
					Provider: "local", QueuedAt: time.Now(), StartedAt: time.Now(), MemoryMB: 128, Payload: payload, Attempts: 1}
				if err := s.StartJob(ctx, j); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	// 3200 jobs of 2 KiB write some 50 MB of WAL frames (indexes, pages
	// rewritten), which without the bound the file holds at its end
	// (WAL_BASELINE=1 shows it). With it, the WAL is emptied every time it
	// passes the limit; between two checks (a tick and a waiting group
	// commit) it grows some MB on this machine.
	if p := peak.Load(); p > 24<<20 {
		t.Fatalf("the WAL reached %d bytes, limit %d", p, WALLimit)
	}
	t.Logf("WAL peak %d bytes (limit %d) over 3200 jobs", peak.Load(), WALLimit)
}
