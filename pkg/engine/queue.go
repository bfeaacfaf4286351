package engine

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/faasdev/faas/pkg/callback"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// MaxRetries bounds --retries.
const MaxRetries = 10

// SubmitRequest is one asynchronous invocation.
type SubmitRequest struct {
	Name    string
	Payload []byte
	Timeout time.Duration
	// Retries is how many times a failed run is run again (0: never).
	Retries int
	// Trigger is what started it (faastype.Trigger*; "" is cli).
	Trigger string
	// Callback is a URL the result is posted to when the job ends.
	Callback string
}

// Submit queues a job for a dispatcher and returns it, waiting. The
// function must exist (a missing one is not found before anything is
// queued) and the budget must allow it.
func (e *Engine) Submit(ctx context.Context, r SubmitRequest) (store.Job, error) {
	if r.Retries < 0 || r.Retries > MaxRetries {
		return store.Job{}, fault.Usagef("--retries %d is out of range: use 0 to %d", r.Retries, MaxRetries)
	}
	if r.Callback != "" {
		if err := callback.CheckURL(r.Callback); err != nil {
			return store.Job{}, fault.Usagef("%v", err)
		}
	}
	fn, _, now, err := e.admit(ctx, r.Name, r.Payload, r.Timeout, nil)
	if err != nil {
		return store.Job{}, err
	}
	job := store.Job{
		ID: NewJobID(now), Function: fn.Name, Version: fn.Current.Version, Owner: e.Owner, Status: store.StatusWaiting,
		Provider: fn.Provider, QueuedAt: now, MemoryMB: fn.Current.Config.MemoryMB, Payload: r.Payload,
		Retries: r.Retries, Timeout: r.Timeout, Trigger: trigger(r.Trigger),
	}
	if r.Callback != "" {
		job.Callback = store.Callback{URL: r.Callback, Status: store.CallbackPending}
	}
	if err := e.store.EnqueueJob(ctx, job); err != nil {
		return store.Job{}, err
	}
	return job, nil
}

// runClaimed runs a job claimed from the queue on its function's current
// version; requeued says it failed and waits for another try.
func (e *Engine) runClaimed(ctx context.Context, job store.Job) (j store.Job, requeued bool, err error) {
	rec := context.WithoutCancel(ctx)
	fail := func(err error) (store.Job, bool, error) { return e.failPlatform(rec, job, err, false) }
	set, err := e.Settings(ctx)
	if err != nil {
		return fail(err)
	}
	fn, err := e.store.GetFunction(ctx, job.Function)
	if err == nil && job.Owner != "" && fn.Owner != job.Owner {
		// Removed, and deployed again by another owner. (The local user,
		// owner "", may run anyone's functions.)
		err = fault.NotFoundf("function %q not found", job.Function)
	}
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			err = errors.New("the function was removed before the job ran")
		}
		return fail(err)
	}
	p, err := e.ProviderFor(ctx, fn.Provider)
	if err != nil {
		return e.failPlatform(rec, job, err, job.Attempts <= job.Retries)
	}
	// It runs the function's current version: PlaceAgain records which.
	job.Version, job.MemoryMB, job.Provider = fn.Current.Version, fn.Current.Config.MemoryMB, p.Name()
	pl := placement(p, fn)
	if e.clustered() {
		return e.runClustered(ctx, job, fn, p, pl, set.Sheet)
	}
	placed, err := e.store.PlaceAgain(ctx, job.ID, fn.Name, pl, e.Now())
	if err != nil {
		return fail(err)
	}
	return e.execute(ctx, job, fn, p, placed, pl, set.Sheet)
}

// ClaimQueued claims the oldest waiting job for this process to run
// (it becomes running, with one more attempt); ok is false when none waits.
func (e *Engine) ClaimQueued(ctx context.Context) (job store.Job, ok bool, err error) {
	e.StartHeartbeat()
	return e.store.ClaimNext(ctx, e.Now(), os.Getpid(), proc.SelfStart())
}

// RunQueued runs a claimed job on its function's current version and
// records how it ended; requeued says it failed and waits for another try.
func (e *Engine) RunQueued(ctx context.Context, job store.Job) (store.Job, bool, error) {
	j, requeued, err := e.runClaimed(ctx, job)
	if !requeued && j.Ended() {
		j = e.ended(context.WithoutCancel(ctx), j)
	}
	return j, requeued, err
}

// WaitJob waits until a job has ended, or timeout has passed (0: no
// limit), and returns it as it then is.
func (e *Engine) WaitJob(ctx context.Context, id string, timeout time.Duration) (store.Job, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	// One full read (and reconcile) first; then only the job's status, and
	// the whole record once it has ended.
	j, err := e.Job(ctx, id)
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		if err != nil || j.Ended() {
			return j, err
		}
		wait := delay
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return j, nil
			}
			wait = min(wait, left)
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(wait):
		}
		st, serr := e.store.JobState(ctx, id)
		switch {
		case serr != nil:
			err = serr
		case st.Status != j.Status || st.Status == store.StatusRunning && !runnerAlive(st.RunnerPID, st.RunnerStart):
			// It moved on, or its runner died (Job marks it lost).
			j, err = e.Job(ctx, id)
		}
	}
}

// CreateToken records an API token's hash for the owner name.
func (e *Engine) CreateToken(ctx context.Context, name, hash string) error {
	if err := e.store.CreateToken(ctx, store.Token{Name: name, Hash: hash, CreatedAt: e.Now()}); err != nil {
		return err
	}
	return e.stampTokens()
}

// RevokeToken deletes the owner name's token.
func (e *Engine) RevokeToken(ctx context.Context, name string) error {
	if err := e.store.RevokeToken(ctx, name); err != nil {
		return err
	}
	return e.stampTokens()
}

func (e *Engine) stampTokens() error { return faashome.Touch(faashome.TokensStamp(e.Home), e.Now()) }

// queueListener is a store that can say when a job joins the queue
// (PostgreSQL's LISTEN faas_queue).
type queueListener interface {
	ListenQueue(ctx context.Context, wake func())
}

// ListenQueue calls wake whenever a job joins the queue, from any process
// of a shared database, until ctx ends, when the store can tell; ok is
// false when it cannot (SQLite), and the caller polls.
func (e *Engine) ListenQueue(ctx context.Context, wake func()) (ok bool) {
	l, ok := e.store.(queueListener)
	if ok {
		go l.ListenQueue(ctx, wake)
	}
	return ok
}
