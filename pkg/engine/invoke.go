package engine

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// PayloadLimit is the largest payload a synchronous invoke accepts, as
// Lambda's.
const PayloadLimit = 6 << 20

// platformError is how a job that failed because of the platform words
// its error; its cause, not this text, says whose failure it was.
func platformError(err error) string { return "platform: " + err.Error() }

// InvokeRequest is one synchronous invocation.
type InvokeRequest struct {
	Name    string
	Payload []byte
	// Timeout overrides the function's when positive.
	Timeout time.Duration
	// Trigger is what started it (faastype.Trigger*; "" is cli).
	Trigger string
	// JobID, when set, is the job's id (NewJobID): an HTTP call's event
	// names its job before it exists.
	JobID string
	// Function, when set, is the function named Name as its caller has
	// just read it (an HTTP call, to decide who may call it): it is not
	// read again.
	Function *store.Function
	// RunnerPID and RunnerStart, when set, are the process the job runs
	// for, if not this one (a `faas invoke` handed to a local agent): the
	// job is lost if that process dies before the job is recorded.
	RunnerPID   int
	RunnerStart int64
}

// Invoke runs a function once and records the job. A function that fails
// is a job with status failed or timeout, not an error; the error is for
// bad input and platform failures. The job is on the record before the
// function starts and is always finished, whatever happens.
func (e *Engine) Invoke(ctx context.Context, r InvokeRequest) (store.Job, error) {
	fn, set, now, err := e.admit(ctx, r.Name, r.Payload, r.Timeout, r.Function)
	if err != nil {
		return store.Job{}, err
	}
	p, err := e.ProviderFor(ctx, fn.Provider)
	if err != nil {
		return store.Job{}, err
	}
	pid, start := os.Getpid(), proc.SelfStart()
	if r.RunnerPID > 0 {
		pid, start = r.RunnerPID, r.RunnerStart
	}
	cfg := fn.Current.Config
	id := r.JobID
	if id == "" {
		id = NewJobID(now)
	}
	job := store.Job{
		ID: id, Function: fn.Name, Version: fn.Current.Version, Owner: e.Owner,
		Status: store.StatusRunning, Provider: p.Name(), QueuedAt: now, StartedAt: now,
		MemoryMB: cfg.MemoryMB, Payload: r.Payload, Timeout: r.Timeout, Attempts: 1,
		RunnerPID: pid, RunnerStart: start, Trigger: trigger(r.Trigger),
	}
	pl := placement(p, fn)
	e.StartHeartbeat()
	if e.clustered() {
		return e.invokeClustered(ctx, job, fn, p, pl, set.Sheet)
	}
	placed, err := e.store.ClaimJob(ctx, job, pl)
	if err != nil {
		return store.Job{}, err
	}
	job, _, err = e.execute(ctx, job, fn, p, placed, pl, set.Sheet)
	return job, err
}

// trigger is a request's trigger: cli when it names none.
func trigger(t string) string {
	if t == "" {
		return faastype.TriggerCLI
	}
	return t
}

// admit checks what every invocation, sync or async, is given, and that
// the function exists (read, unless read is the caller's fresh copy) and
// the budget allows a call now.
func (e *Engine) admit(ctx context.Context, name string, payload []byte, timeout time.Duration, read *store.Function) (store.Function, billing.Settings, time.Time, error) {
	if err := validateCall(name, payload, timeout); err != nil {
		return store.Function{}, billing.Settings{}, time.Time{}, err
	}
	var fn store.Function
	var err error
	switch {
	case read == nil:
		fn, err = e.function(ctx, name)
	case read.Name != name || e.Scoped && read.Owner != e.Owner:
		err = fault.Platformf("invoke %s: given function %s of %q", name, read.Name, read.Owner)
	default:
		fn = *read
	}
	if err != nil {
		return store.Function{}, billing.Settings{}, time.Time{}, err
	}
	now := e.Now()
	set, err := e.Settings(ctx)
	if err == nil {
		err = e.checkBudget(ctx, set, now)
	}
	return fn, set, now, err
}

// validateCall checks an invocation's name, payload and timeout.
func validateCall(name string, payload []byte, timeout time.Duration) error {
	if err := function.ValidateName(name); err != nil {
		return err
	}
	if len(payload) > PayloadLimit {
		return fault.Usagef("payload is %d bytes, over the %d MiB limit", len(payload), PayloadLimit>>20)
	}
	if timeout < 0 || timeout > function.MaxTimeout {
		return fault.Usagef("--timeout %s is out of range: use more than 0s and at most %s", timeout, function.MaxTimeout)
	}
	return nil
}

// placement says how a job of fn is placed.
func placement(p provider.Provider, fn store.Function) store.Placement {
	cfg := fn.Current.Config
	return store.Placement{Provider: p.Name(), Slots: max(cfg.Concurrency, 1), MaxInstances: cfg.Instances(),
		MemoryMB: cfg.MemoryMB, CPUs: cfg.CPUs, DiskMB: cfg.DiskMB, Version: fn.Current.Version}
}

// execute runs a claimed and placed job and records how it ended. An
// async job that failed with retries left goes back to the queue.
// It runs with the job's own timeout (0: the function's) and is priced by
// sheet.
func (e *Engine) execute(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, placed store.Placed, pl store.Placement, sheet billing.Sheet) (j store.Job, requeued bool, err error) {
	cfg := fn.Current.Config
	inv := versionInvocation(fn)
	inv.JobID, inv.Payload, inv.Timeout = job.ID, job.Payload, job.Timeout
	inv.HTTP = job.Trigger == faastype.TriggerHTTP
	// The secrets are the function's owner's (not the caller's), opened for
	// this run. One removed since the deploy fails the job, saying so.
	if inv.Secrets, err = e.secretValues(ctx, fn.Owner, cfg.Secrets); err != nil {
		return e.failPlatform(context.WithoutCancel(ctx), job, err, false)
	}
	out, launched, runErr := e.runPlaced(ctx, p, placed, inv, pl)
	// The result is recorded even when the caller is interrupted; not when
	// it died (ErrCallerGone): then, as when the process that runs a job
	// dies, the job is found lost.
	if cause := context.Cause(ctx); errors.Is(cause, faastype.ErrCallerGone) {
		return job, false, cause
	}
	rec := context.WithoutCancel(ctx)
	if runErr != nil {
		return e.failPlatform(rec, job, runErr, job.Attempts <= job.Retries)
	}
	applyOutcome(&job, out)
	job.Cold = job.Cold || launched
	price(&job, sheet, cfg)
	requeue := job.Cause == faastype.CauseFunction && job.Attempts <= job.Retries
	if err := e.store.FinishJob(rec, job, requeue); err != nil {
		return job, false, err
	}
	return job, requeue, nil
}

// failPlatform ends a job that the platform failed (or, with requeue, puts
// it back in the queue for another try) and returns the platform's error.
func (e *Engine) failPlatform(ctx context.Context, job store.Job, err error, requeue bool) (store.Job, bool, error) {
	job.Status, job.Cause, job.Error, job.EndedAt = store.StatusFailed, faastype.CausePlatform, platformError(err), e.Now()
	if ferr := e.store.FinishJob(ctx, job, requeue); ferr != nil {
		return job, false, ferr
	}
	return job, requeue, err
}

// runPlaced runs inv where it was placed: launching the instance first when
// it is new (a cold start), and once more elsewhere when the instance turns
// out to be gone (an agent that exited when idle, a deleted VM).
func (e *Engine) runPlaced(ctx context.Context, p provider.Provider, placed store.Placed, inv faastype.Invocation, pl store.Placement) (faastype.Outcome, bool, error) {
	launched := false
	for attempt := 0; ; attempt++ {
		inst := placed.Instance
		if placed.Launch {
			e.configure(ctx, p)
			up, err := p.Launch(ctx, inst, inv)
			if err != nil {
				_ = e.store.RemoveInstance(context.WithoutCancel(ctx), inst.ID)
				return faastype.Outcome{}, false, err
			}
			if err := e.store.InstanceUp(ctx, up, e.Now()); err != nil {
				return faastype.Outcome{}, false, err
			}
			inst, launched = up, true
		} else if inst.Endpoint == "" {
			inst.Endpoint = p.Endpoint(inst.ID)
			if inst.Endpoint == "" {
				// Launched by someone else, with an address (and token) known
				// only once it is up: wait for its row to say so.
				up, ok, err := e.waitReady(ctx, inst.ID, inv.Function)
				if err != nil {
					return faastype.Outcome{}, launched, err
				}
				if !ok {
					if placed, err = e.store.PlaceAgain(ctx, inv.JobID, inv.Function, pl, e.Now()); err != nil {
						return faastype.Outcome{}, false, err
					}
					continue
				}
				inst = up
			}
		}
		out, err := p.Invoke(ctx, inst, inv, inst.State == store.InstanceStarting)
		if err != nil && ctx.Err() != nil {
			// Interrupted: the agent stops the function when the caller goes.
			out := faastype.Interrupted(e.Now())
			out.Instance = inst.ID
			return out, launched, nil
		}
		if !errors.Is(err, faastype.ErrGone) || attempt > 0 {
			out.Instance = inst.ID
			return out, launched, err
		}
		if err := e.store.RemoveInstance(ctx, inst.ID); err != nil {
			return faastype.Outcome{}, false, err
		}
		if placed, err = e.store.PlaceAgain(ctx, inv.JobID, inv.Function, pl, e.Now()); err != nil {
			return faastype.Outcome{}, false, err
		}
	}
}

// versionInvocation is an invocation of fn's current version, without a
// job: what an instance of it is launched with.
func versionInvocation(fn store.Function) faastype.Invocation {
	v := fn.Current
	return faastype.Invocation{Function: fn.Name, Version: v.Version, SHA256: v.SHA256, Filename: v.Filename,
		Code: v.Code, Tree: v.Tree, Deps: v.Deps, Config: v.Config}
}

func applyOutcome(job *store.Job, out faastype.Outcome) {
	job.Status = string(out.Status)
	job.Instance = out.Instance
	job.Cold = out.Cold
	job.InitMS = out.InitMS
	job.StartedAt, job.EndedAt = out.StartedAt, out.EndedAt
	job.Duration = out.Duration()
	job.PeakMemoryBytes = out.PeakMemoryBytes
	job.ExitCode = out.ExitCode
	job.Error = out.Error
	job.Cause = out.Cause()
	job.Result = out.Result
	job.Logs = out.Logs
	job.LogsTruncated = out.LogsTruncated
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
	if f.Trigger != "" && !slices.Contains(faastype.Triggers, f.Trigger) {
		return nil, fault.Usagef("unknown trigger %q: use %s", f.Trigger, strings.Join(faastype.Triggers, ", "))
	}
	if err := e.reconcile(ctx); err != nil {
		return nil, err
	}
	if e.Scoped {
		f.Owner, f.OwnerSet = e.Owner, true
	}
	return e.store.ListJobs(ctx, f)
}

// Job returns one job, reconciled like Jobs.
func (e *Engine) Job(ctx context.Context, id string) (store.Job, error) {
	if id == "" || len(id) > 64 {
		return store.Job{}, fault.Usagef("invalid job id %q", id)
	}
	if err := e.reconcile(ctx); err != nil {
		return store.Job{}, err
	}
	j, err := e.store.GetJob(ctx, id)
	if err == nil && e.Scoped && j.Owner != e.Owner {
		return store.Job{}, fault.WithHint(fault.NotFoundf("job %q not found", id), "run `faas jobs` to see recent jobs")
	}
	return j, err
}

func validStatus(s string) bool {
	for _, k := range store.Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// reconcile marks as lost the running jobs whose faas process died. Their
// agents saw the connection close and stopped the function.
func (e *Engine) reconcile(ctx context.Context) error {
	if _, err := e.store.MarkLost(ctx, e.Now(), runnerAlive); err != nil {
		return err
	}
	return e.markSilent(ctx)
}

// waitReady waits for a starting instance to be ready; ok is false when
// its launch failed (the row is gone).
func (e *Engine) waitReady(ctx context.Context, id, fn string) (faastype.Instance, bool, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		rows, err := e.store.ListInstances(ctx, fn)
		if err != nil {
			return faastype.Instance{}, false, err
		}
		found := false
		for _, r := range rows {
			if r.ID != id {
				continue
			}
			found = true
			if r.State == store.InstanceReady {
				return r.Instance, true, nil
			}
		}
		if !found || time.Now().After(deadline) {
			return faastype.Instance{}, false, nil
		}
		select {
		case <-ctx.Done():
			return faastype.Instance{}, false, ctx.Err()
		case <-time.After(delay):
		}
	}
}
