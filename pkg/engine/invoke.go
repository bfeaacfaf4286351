package engine

import (
	"context"
	"os"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// PayloadLimit is the largest payload a synchronous invoke accepts, as
// Lambda's.
const PayloadLimit = 6 << 20

// InvokeRequest is one synchronous invocation.
type InvokeRequest struct {
	Name    string
	Payload []byte
	// Timeout overrides the function's when positive.
	Timeout time.Duration
}

// Invoke runs a function once and records the job. A function that fails
// is a job with status failed or timeout, not an error; the error is for
// bad input and platform failures. The job is on the record before the
// function starts and is always finished, whatever happens.
func (e *Engine) Invoke(ctx context.Context, r InvokeRequest) (store.Job, error) {
	if err := function.ValidateName(r.Name); err != nil {
		return store.Job{}, err
	}
	if len(r.Payload) > PayloadLimit {
		return store.Job{}, fault.Usagef("payload is %d bytes, over the %d MiB limit", len(r.Payload), PayloadLimit>>20)
	}
	if r.Timeout < 0 || r.Timeout > function.MaxTimeout {
		return store.Job{}, fault.Usagef("--timeout %s is out of range: use more than 0s and at most %s", r.Timeout, function.MaxTimeout)
	}
	fn, err := e.Store.GetFunction(ctx, r.Name)
	if err != nil {
		return store.Job{}, err
	}
	runner, err := e.localRunner()
	if err != nil {
		return store.Job{}, err
	}
	now := e.Now()
	pid := os.Getpid()
	job := store.Job{
		ID: NewJobID(now), Function: fn.Name, Version: fn.Current.Version, Owner: e.Owner,
		Status: store.StatusRunning, Provider: runner.Name(), QueuedAt: now, StartedAt: now,
		MemoryMB: fn.Current.Config.MemoryMB, Payload: r.Payload,
		RunnerPID: pid, RunnerStart: processStart(pid),
	}
	if err := e.Store.StartJob(ctx, job); err != nil {
		return store.Job{}, err
	}
	out, runErr := runner.Run(ctx, provider.Invocation{
		JobID: job.ID, Function: fn.Name, Version: fn.Current.Version, SHA256: fn.Current.SHA256,
		Filename: fn.Current.Filename, Code: fn.Current.Code, Config: fn.Current.Config,
		Payload: r.Payload, Timeout: r.Timeout,
	})
	// The result is recorded even when the caller is interrupted.
	rec := context.WithoutCancel(ctx)
	if runErr != nil {
		job.Status = store.StatusFailed
		job.Error = "platform: " + runErr.Error()
		job.EndedAt = e.Now()
		if err := e.Store.FinishJob(rec, job); err != nil {
			return job, err
		}
		return job, runErr
	}
	applyOutcome(&job, out)
	if err := e.Store.FinishJob(rec, job); err != nil {
		return job, err
	}
	return job, nil
}

func applyOutcome(job *store.Job, out provider.Outcome) {
	job.Status = string(out.Status)
	job.Instance = out.Instance
	job.Cold = out.Cold
	job.InitMS = out.InitMS
	job.StartedAt, job.EndedAt = out.StartedAt, out.EndedAt
	job.Duration = out.Duration()
	job.BilledMS = BilledMS(job.Duration)
	job.PeakMemoryBytes = out.PeakMemoryBytes
	job.ExitCode = out.ExitCode
	job.Error = out.Error
	job.Result = out.Result
	job.Logs = out.Logs
	job.LogsTruncated = out.LogsTruncated
}

// BilledMS rounds a duration up to whole milliseconds, at least one, as
// Lambda bills.
func BilledMS(d time.Duration) int64 {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	return max(ms, 1)
}

// Jobs lists jobs, newest first, after marking as lost the running jobs
// whose process died.
func (e *Engine) Jobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	if f.Status != "" && !validStatus(f.Status) {
		return nil, fault.Usagef("unknown status %q: use waiting, running, completed, failed, timeout or lost", f.Status)
	}
	if f.Function != "" {
		if err := function.ValidateName(f.Function); err != nil {
			return nil, err
		}
	}
	if f.Limit < 0 {
		return nil, fault.Usagef("--limit %d: use 0 (no limit) or more", f.Limit)
	}
	if err := e.reconcile(ctx); err != nil {
		return nil, err
	}
	return e.Store.ListJobs(ctx, f)
}

// Job returns one job, reconciled like Jobs.
func (e *Engine) Job(ctx context.Context, id string) (store.Job, error) {
	if id == "" || len(id) > 64 {
		return store.Job{}, fault.Usagef("invalid job id %q", id)
	}
	if err := e.reconcile(ctx); err != nil {
		return store.Job{}, err
	}
	return e.Store.GetJob(ctx, id)
}

func validStatus(s string) bool {
	for _, k := range store.Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// reconcile marks as lost the running jobs whose faas process died, and
// has the provider kill whatever those jobs left running.
func (e *Engine) reconcile(ctx context.Context) error {
	lost, err := e.Store.MarkLost(ctx, e.Now(), runnerAlive)
	if err != nil || len(lost) == 0 {
		return err
	}
	runner, err := e.localRunner()
	if err != nil {
		return nil
	}
	if r, ok := runner.(provider.Reaper); ok {
		for _, id := range lost {
			r.Reap(id)
		}
	}
	return nil
}
