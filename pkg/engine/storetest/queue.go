package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

func queued(id, owner string, at time.Time, retries int) store.Job {
	return store.Job{ID: id, Function: "hello", Version: 1, Owner: owner, Status: store.StatusWaiting, Provider: "local",
		QueuedAt: at, MemoryMB: 128, Payload: []byte(`{"id":"` + id + `"}`), Retries: retries, Timeout: 2 * time.Second}
}

// Concurrent claimers take every waiting job exactly once, oldest first
// per claimer.
func testClaimNextEachJobOnce(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	const n = 60
	for i := range n {
		if err := s.EnqueueJob(ctx, queued(fmt.Sprintf("j%03d", i), "ada", t0.Add(time.Duration(i)*time.Millisecond), 0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := ""
			for {
				j, ok, err := s.ClaimNext(ctx, t0, 1000+w, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				if j.ID <= last {
					t.Errorf("claimer %d took %s after %s", w, j.ID, last)
				}
				last = j.ID
				if j.Status != store.StatusRunning || j.Attempts != 1 || j.RunnerPID != 1000+w || string(j.Payload) != `{"id":"`+j.ID+`"}` || j.Timeout != 2*time.Second {
					t.Errorf("claimed %+v", j)
				}
				mu.Lock()
				seen[j.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s claimed %d times", id, k)
		}
	}
	if c, _ := s.CountWaiting(ctx); c != 0 {
		t.Errorf("%d still waiting", c)
	}
}

// A retried run is billed and the job waits again; its cost is the sum of
// its runs, and the bill counts each run.
func testFinishRequeueBillsEachRun(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	if err := s.EnqueueJob(ctx, queued("r1", "ada", t0, 1)); err != nil {
		t.Fatal(err)
	}
	run := func(status string, requeue bool) store.Job {
		j, ok, err := s.ClaimNext(ctx, t0, 1, 1)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		j.Status = status
		j.EndedAt, j.Duration, j.BilledMS = t0.Add(time.Second), 10*time.Millisecond, 10
		j.RequestPico, j.ComputePico = 200_000, 1_000
		if err := s.FinishJob(ctx, j, requeue); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetJob(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if j := run(store.StatusFailed, true); j.Status != store.StatusWaiting || j.Attempts != 1 || j.RequestPico != 200_000 || j.RunnerPID != 0 {
		t.Fatalf("after a retried run: %+v", j)
	}
	if j := run(store.StatusCompleted, false); j.Status != store.StatusCompleted || j.Attempts != 2 || j.RequestPico != 400_000 || j.ComputePico != 2_000 || j.BilledMS != 20 {
		t.Fatalf("after the second run: %+v", j)
	}
	d, err := s.Bill(ctx, store.BillFilter{From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 0, 1)})
	rows := d.Rows
	if err != nil || len(rows) != 1 || rows[0].Invocations != 2 || rows[0].Errors != 1 || rows[0].RequestPico != 400_000 {
		t.Fatalf("bill: %+v %v", rows, err)
	}
}

// Owners see their own jobs and functions only, when asked.
func testOwnerFilters(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	mustDeploy(t, s, deployReq("hello", "def handler(e, c): return 1\n", pyConfig(), t0)) // owner ada
	bob := deployReq("other", "def handler(e, c): return 2\n", pyConfig(), t0)
	bob.Owner = "bob"
	mustDeploy(t, s, bob)
	for i, o := range []string{"ada", "bob", "bob"} {
		if err := s.EnqueueJob(ctx, queued(fmt.Sprint("o", i), o, t0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if js, _ := s.ListJobs(ctx, store.JobFilter{Owner: "bob", OwnerSet: true}); len(js) != 2 {
		t.Errorf("bob's jobs: %d, want 2", len(js))
	}
	if js, _ := s.ListJobs(ctx, store.JobFilter{}); len(js) != 3 {
		t.Errorf("all jobs: %d, want 3", len(js))
	}
	if fs, _ := s.ListFunctions(ctx, "ada", true); len(fs) != 1 || fs[0].Name != "hello" {
		t.Errorf("ada's functions: %+v", fs)
	}
	// bob cannot add a version to ada's function when owners are enforced.
	steal := deployReq("hello", "def handler(e, c): return 3\n", pyConfig(), t0)
	steal.Owner, steal.OwnerOnly = "bob", true
	_, _, err := s.Deploy(ctx, steal)
	wantKind(t, err, fault.Conflict)
	if v := currentVersion(t, s, "hello"); v != 1 {
		t.Errorf("hello is at v%d after a refused deploy", v)
	}
}

func testTokens(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	if err := s.CreateToken(ctx, store.Token{Name: "ada", Hash: "h1", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateToken(ctx, store.Token{Name: "ada", Hash: "h2", CreatedAt: t0}), fault.Conflict)
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 1 || ts[0].Hash != "h1" {
		t.Fatalf("tokens: %+v %v", ts, err)
	}
	if err := s.RevokeToken(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.RevokeToken(ctx, "ada"), fault.NotFound)
}

// Among concurrent writers a failing one is rolled back alone: the others'
// writes land (in SQLite's group commit, each writer has its savepoint).
func testConcurrentWritersFailAlone(t *testing.T, b Backend) {
	s := b.open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("g%02d", i)
			if i%4 == 0 {
				id = "dup" // all but one of these collide on the primary key
			}
			errs[i] = s.EnqueueJob(ctx, queued(id, "ada", t0, 0))
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed != 9 {
		t.Errorf("%d writers failed, want 9 (the duplicates)", failed)
	}
	if n, _ := s.CountWaiting(ctx); n != 31 {
		t.Errorf("%d jobs written, want 31", n)
	}
}
