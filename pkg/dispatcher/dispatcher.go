// Package dispatcher runs a home's queue of async jobs: a pool of workers
// that claim jobs one at a time and run them, woken when a job is queued
// (or every Poll, for jobs queued by other processes), and the detached
// `faas dispatch` that runs the queue when no `faas serve` does, one per
// home under a lock. What running one job means is the engine's (Queue).
package dispatcher

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Queue is what a dispatcher runs: the engine.
type Queue interface {
	// ClaimQueued claims the oldest waiting job; ok is false when none waits.
	ClaimQueued(ctx context.Context) (job store.Job, ok bool, err error)
	// RunQueued runs a claimed job and records how it ended; requeued says
	// it failed and waits for another try.
	RunQueued(ctx context.Context, job store.Job) (store.Job, bool, error)
	// QueueDepth counts the waiting jobs.
	QueueDepth(ctx context.Context) (int, error)
}

// Options shape a dispatcher.
type Options struct {
	// Workers is how many jobs run at once.
	Workers int
	// Wake, when it receives, makes the dispatcher look at the queue at
	// once; otherwise it looks every Poll.
	Wake <-chan struct{}
	Poll time.Duration
	// IdleExit, when positive, ends the dispatcher once the queue has been
	// empty and nothing has run for that long.
	IdleExit time.Duration
	// Log hears a line per job run, with its job_id (may be nil).
	Log *slog.Logger
	// Done, when set, is called with each run's job as it ended.
	Done func(store.Job, error)
}

// Run runs q's jobs until ctx ends (or it has been idle for IdleExit).
// Jobs in progress when ctx ends run to their end first: their context is
// not ctx's.
func Run(ctx context.Context, q Queue, o Options) error {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	slots := make(chan struct{}, o.Workers)
	done := make(chan struct{}, o.Workers)
	defer func() {
		for range o.Workers {
			slots <- struct{}{} // wait for the jobs in progress
		}
	}()
	lastBusy := time.Now()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		job, ok, err := q.ClaimQueued(context.WithoutCancel(ctx))
		if err == nil && ok {
			lastBusy = time.Now()
			go func() {
				defer func() {
					<-slots
					select {
					case done <- struct{}{}:
					default:
					}
				}()
				j, requeued, err := q.RunQueued(context.WithoutCancel(ctx), job)
				if o.Done != nil {
					o.Done(j, err)
				}
				if o.Log != nil {
					level := slog.LevelInfo
					if err != nil {
						level = slog.LevelError
					}
					o.Log.Log(ctx, level, "job ran", "job_id", j.ID, "function", j.Function,
						"status", j.Status, "attempt", j.Attempts, "requeued", requeued, "error", errString(err))
				}
			}()
			continue
		}
		<-slots
		if err != nil && o.Log != nil {
			o.Log.Error("claim failed", "error", err.Error())
		}
		if len(slots) > 0 {
			lastBusy = time.Now()
		} else if o.IdleExit > 0 && time.Since(lastBusy) >= o.IdleExit {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.Wake:
		case <-done:
		case <-time.After(o.Poll):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Ensure makes sure something will run the queue: a live
// `faas serve` on this home does; otherwise a detached `faas dispatch` is
// started (it exits when the queue has been empty for a while, and only
// one runs at a time).
func Ensure(home string) error {
	if faashome.ReadServer(home).Running {
		return nil
	}
	if _, err := faashome.Detach(home, faashome.DispatcherLog(home), "dispatch"); err != nil {
		return fault.Platformf("start the dispatcher: %w", err)
	}
	return nil
}

// RunDetached is `faas dispatch`: unless another dispatcher holds the
// home's lock, run the queue until it has been empty for idle. After
// letting the lock go it looks once more, so a job queued while it was
// leaving is not stranded.
func RunDetached(ctx context.Context, q Queue, home string, workers int, idle time.Duration, lg *slog.Logger) error {
	for {
		f, err := faashome.Lock(faashome.DispatchLock(home))
		if errors.Is(err, faashome.ErrLocked) {
			return nil // another dispatcher runs the queue
		}
		if err != nil {
			return fault.Platformf("dispatcher lock: %w", err)
		}
		err = Run(ctx, q, Options{Workers: workers, IdleExit: idle, Log: lg})
		f.Close() // releases the lock
		if err != nil || ctx.Err() != nil {
			return err
		}
		if n, err := q.QueueDepth(ctx); err != nil || n == 0 || faashome.ReadServer(home).Running {
			return err
		}
	}
}
