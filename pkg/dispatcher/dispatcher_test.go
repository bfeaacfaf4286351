package dispatcher

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// fakeQueue hands out n jobs and records how many run at once.
type fakeQueue struct {
	mu       sync.Mutex
	waiting  []string
	ran      map[string]int
	running  atomic.Int32
	peak     atomic.Int32
	release  chan struct{} // each run waits for one receive, when set
	requeues int           // runs that fail and go back to the queue
}

func newQueue(n int) *fakeQueue {
	q := &fakeQueue{ran: map[string]int{}}
	for i := range n {
		q.waiting = append(q.waiting, fmt.Sprintf("j%02d", i))
	}
	return q
}

func (q *fakeQueue) ClaimQueued(context.Context) (store.Job, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		return store.Job{}, false, nil
	}
	id := q.waiting[0]
	q.waiting = q.waiting[1:]
	return store.Job{ID: id, Status: store.StatusRunning}, true, nil
}

func (q *fakeQueue) RunQueued(_ context.Context, j store.Job) (store.Job, bool, error) {
	n := q.running.Add(1)
	for {
		p := q.peak.Load()
		if n <= p || q.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if q.release != nil {
		<-q.release
	}
	q.running.Add(-1)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ran[j.ID]++
	if q.requeues > 0 {
		q.requeues--
		q.waiting = append(q.waiting, j.ID)
		j.Status = store.StatusFailed
		return j, true, nil
	}
	j.Status = store.StatusCompleted
	return j, false, nil
}

func (q *fakeQueue) QueueDepth(context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting), nil
}

func TestEveryJobRunsOnceWithinTheWorkers(t *testing.T) {
	q := newQueue(20)
	q.requeues = 3
	var done atomic.Int32
	err := Run(t.Context(), q, Options{Workers: 3, IdleExit: 50 * time.Millisecond, Poll: time.Millisecond,
		Done: func(store.Job, error) { done.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.ran) != 20 {
		t.Fatalf("%d jobs ran, want 20", len(q.ran))
	}
	retried := 0
	for id, n := range q.ran {
		if n > 2 {
			t.Errorf("job %s ran %d times", id, n)
		}
		retried += n - 1
	}
	if retried != 3 || done.Load() != 23 {
		t.Errorf("%d retries, %d runs reported; want 3 and 23", retried, done.Load())
	}
	if p := q.peak.Load(); p > 3 {
		t.Errorf("%d jobs ran at once with 3 workers", p)
	}
}

func TestJobsInProgressFinishAfterCancel(t *testing.T) {
	q := newQueue(2)
	q.release = make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan error, 1)
	go func() { ended <- Run(ctx, q, Options{Workers: 2, Poll: time.Millisecond}) }()
	for q.running.Load() < 2 {
		time.Sleep(time.Millisecond) // both claimed and started
	}
	cancel()
	select {
	case <-ended:
		t.Fatal("Run returned with jobs still running")
	case <-time.After(20 * time.Millisecond):
	}
	close(q.release)
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
	if len(q.ran) != 2 {
		t.Fatalf("ran %v", q.ran)
	}
}

func TestOneDetachedDispatcherPerHome(t *testing.T) {
	home := t.TempDir()
	q := newQueue(1)
	q.release = make(chan struct{})
	first := make(chan error, 1)
	go func() { first <- RunDetached(t.Context(), q, home, 1, 10*time.Millisecond, nil) }()
	for q.running.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	// The lock is held: a second dispatcher leaves at once, running nothing.
	other := newQueue(1)
	if err := RunDetached(t.Context(), other, home, 1, time.Second, nil); err != nil || len(other.ran) != 0 {
		t.Fatalf("second dispatcher: %v, ran %v", err, other.ran)
	}
	close(q.release)
	if err := <-first; err != nil || q.ran["j00"] != 1 {
		t.Fatalf("first: %v, ran %v", err, q.ran)
	}
}
