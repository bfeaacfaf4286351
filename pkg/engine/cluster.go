package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// Remote places invocations on other hosts' workers: the engine's one seam
// to a cluster (pkg/cluster implements it over NATS). The engine records
// every job; where it runs is Remote's choice.
type Remote interface {
	// Active says whether another host's worker is there to take calls;
	// while none is, everything runs here as without a cluster.
	Active() bool
	// Run runs one attempt of a job on a worker and returns its outcome
	// and the worker's name. hand is called with the worker's name once a
	// worker took the attempt, while it runs, and has returned before Run
	// does. ErrRunHere says this host
	// should run it (it has the most free capacity); ErrWorkerLost that the
	// worker went silent while it ran (worker is its name).
	Run(ctx context.Context, c RemoteCall, hand func(worker string) error) (out faastype.Outcome, worker string, err error)
	// Recorded tells the worker its result of the attempt is on the
	// record: it stops sending it again.
	Recorded(worker, jobID string, attempt int)
}

// RemoteCall is one attempt of a job, as a Remote is given it.
type RemoteCall struct {
	JobID   string
	Attempt int
	// Inv is the invocation, with its code (a worker fetches it by sha256
	// when it has not got it) and its secrets opened.
	Inv faastype.Invocation
	// LocalFree is how many more calls this host takes now.
	LocalFree int
}

var (
	// ErrRunHere says a call is best run on this host.
	ErrRunHere = errors.New("run on this host")
	// ErrWorkerLost says the worker running a call went silent.
	ErrWorkerLost = errors.New(LostError)
)

// LostError is the error of a job whose worker was lost while it ran.
const LostError = "the worker was lost; the function may have run"

type clusterSeam struct {
	remote   Remote
	host     string
	capacity int
	// running counts the calls this process runs on this host while the
	// cluster is active.
	running atomic.Int64
}

// SetRemote makes the engine place invocations through r while r is
// active: this host is the worker host, taking capacity calls at once.
func (e *Engine) SetRemote(r Remote, host string, capacity int) {
	e.cluster = &clusterSeam{remote: r, host: host, capacity: capacity}
}

// LocalLoad is how many calls this host runs for the cluster now, and how
// many it takes.
func (e *Engine) LocalLoad() (running, capacity int) {
	if e.cluster == nil {
		return 0, 0
	}
	return int(e.cluster.running.Load()), e.cluster.capacity
}

func (e *Engine) clustered() bool { return e.cluster != nil && e.cluster.remote.Active() }

// invokeClustered is Invoke with workers on other hosts: a warm free slot
// here is used at once; otherwise the job is recorded and the cluster
// places it.
func (e *Engine) invokeClustered(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, pl store.Placement, sheet billing.Sheet) (store.Job, error) {
	if e.localWarm(ctx, fn, p) {
		job.Host = e.cluster.host
		placed, err := e.store.ClaimJob(ctx, job, pl)
		if err != nil {
			return store.Job{}, err
		}
		job, _, err = e.runHere(ctx, job, fn, p, placed, pl, sheet)
		return job, err
	}
	if err := e.store.StartJob(ctx, job); err != nil {
		return store.Job{}, err
	}
	job, _, err := e.executeRemote(ctx, job, fn, p, pl, sheet)
	return job, err
}

// runClustered is runClaimed with workers on other hosts.
func (e *Engine) runClustered(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, pl store.Placement, sheet billing.Sheet) (store.Job, bool, error) {
	if e.localWarm(ctx, fn, p) {
		return e.placeHere(ctx, job, fn, p, pl, sheet)
	}
	return e.executeRemote(ctx, job, fn, p, pl, sheet)
}

// placeHere places a recorded job on this host's instances and runs it.
func (e *Engine) placeHere(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, pl store.Placement, sheet billing.Sheet) (store.Job, bool, error) {
	rec := context.WithoutCancel(ctx)
	job.Host = e.cluster.host
	if err := e.store.HandJob(ctx, job.ID, job.Host, false); err != nil {
		return e.failPlatform(rec, job, err, false)
	}
	placed, err := e.store.PlaceAgain(ctx, job.ID, fn.Name, pl, e.Now())
	if err != nil {
		return e.failPlatform(rec, job, err, false)
	}
	return e.runHere(ctx, job, fn, p, placed, pl, sheet)
}

func (e *Engine) runHere(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, placed store.Placed, pl store.Placement, sheet billing.Sheet) (store.Job, bool, error) {
	e.cluster.running.Add(1)
	defer e.cluster.running.Add(-1)
	return e.execute(ctx, job, fn, p, placed, pl, sheet)
}

// localWarm says whether this host has a ready instance of fn's current
// version with a free slot (and takes calls at all).
func (e *Engine) localWarm(ctx context.Context, fn store.Function, p provider.Provider) bool {
	if e.cluster.capacity <= 0 || int(e.cluster.running.Load()) >= e.cluster.capacity {
		return false
	}
	rows, err := e.store.ListInstances(ctx, fn.Name)
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.State == store.InstanceReady && r.Version == fn.Current.Version && r.Provider == p.Name() &&
			r.InFlight < max(r.Slots, 1) && p.Endpoint(r.ID) != "" {
			return true
		}
	}
	return false
}

// executeRemote runs a recorded job's attempt where the cluster places it
// and records how it ended, as execute does.
func (e *Engine) executeRemote(ctx context.Context, job store.Job, fn store.Function, p provider.Provider, pl store.Placement, sheet billing.Sheet) (store.Job, bool, error) {
	rec := context.WithoutCancel(ctx)
	cfg := fn.Current.Config
	inv := versionInvocation(fn)
	inv.JobID, inv.Payload, inv.Timeout = job.ID, job.Payload, job.Timeout
	inv.HTTP = job.Trigger == faastype.TriggerHTTP
	var err error
	if inv.Secrets, err = e.secretValues(ctx, fn.Owner, cfg.Secrets); err != nil {
		return e.failPlatform(rec, job, err, false)
	}
	free := e.cluster.capacity - int(e.cluster.running.Load())
	hand := func(worker string) error { return e.store.HandJob(rec, job.ID, worker, true) }
	out, worker, err := e.cluster.remote.Run(ctx, RemoteCall{JobID: job.ID, Attempt: job.Attempts, Inv: inv, LocalFree: free}, hand)
	job.Host = worker
	switch {
	case errors.Is(err, ErrRunHere):
		return e.placeHere(ctx, job, fn, p, pl, sheet)
	case errors.Is(err, ErrWorkerLost):
		return e.loseJob(rec, job)
	case err != nil && ctx.Err() != nil:
		out = faastype.Interrupted(e.Now())
	case err != nil:
		j, requeued, err := e.failPlatform(rec, job, err, job.Attempts <= job.Retries)
		e.cluster.remote.Recorded(worker, job.ID, job.Attempts)
		return j, requeued, err
	}
	j, requeued, err := e.recordRun(rec, job, out, sheet, fn.Current.Config)
	if err == nil {
		e.cluster.remote.Recorded(worker, job.ID, job.Attempts)
	}
	return j, requeued, err
}

// recordRun records an attempt's outcome: an async job that failed with
// retries left goes back to the queue.
func (e *Engine) recordRun(ctx context.Context, job store.Job, out faastype.Outcome, sheet billing.Sheet, cfg function.Config) (store.Job, bool, error) {
	applyOutcome(&job, out)
	price(&job, sheet, cfg)
	requeue := job.Cause == faastype.CauseFunction && job.Attempts <= job.Retries
	if err := e.store.FinishJob(ctx, job, requeue); err != nil {
		return job, false, err
	}
	return job, requeue, nil
}

// loseJob ends a job whose worker was lost mid-run (lost, or waiting again
// when it has retries left). Whoever noticed first records it: a second
// finds it no longer running and reads what the first wrote.
func (e *Engine) loseJob(ctx context.Context, job store.Job) (store.Job, bool, error) {
	job.Status, job.Cause, job.Error, job.EndedAt = store.StatusLost, faastype.CauseLost, LostError, e.Now()
	requeue := job.Attempts <= job.Retries
	if err := e.store.FinishJob(ctx, job, requeue); err != nil {
		j, gerr := e.store.GetJob(ctx, job.ID)
		if gerr != nil {
			return job, false, err
		}
		return j, j.Status == store.StatusWaiting, nil
	}
	return job, requeue, nil
}

// RecordRemoteResult records a result a worker sent again because no
// server acknowledged it (the one that asked restarted): it counts only
// for the attempt it is of, while the job is still that worker's and
// running. recorded is false when it no longer applies.
func (e *Engine) RecordRemoteResult(ctx context.Context, worker, jobID string, attempt int, out faastype.Outcome) (recorded bool, err error) {
	job, err := e.store.GetJob(ctx, jobID)
	if err != nil || job.Status != store.StatusRunning || job.Attempts != attempt || job.Host != worker {
		return false, nil
	}
	set, err := e.Settings(ctx)
	if err != nil {
		return false, err
	}
	v, err := e.store.GetVersion(ctx, job.Function, job.Version)
	if err != nil {
		return false, err
	}
	j, requeued, err := e.recordRun(ctx, job, out, set.Sheet, v.Config)
	if err != nil {
		return false, err
	}
	if !requeued && j.Ended() {
		e.ended(ctx, j)
	}
	return true, nil
}

// LoseWorkerJobs ends the running jobs handed to a worker that is lost:
// lost, or waiting again with retries left. It returns how many it ended.
func (e *Engine) LoseWorkerJobs(ctx context.Context, worker string) (int, error) {
	jobs, err := e.store.ListJobs(ctx, store.JobFilter{Status: store.StatusRunning})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		if j.Host != worker || j.RunnerPID != 0 {
			continue
		}
		j, requeued, err := e.loseJob(ctx, j)
		if err != nil {
			return n, err
		}
		if !requeued && j.Ended() {
			e.ended(ctx, j)
		}
		n++
	}
	return n, nil
}

// RunningHosts lists the hosts of the running jobs handed to workers.
func (e *Engine) RunningHosts(ctx context.Context) (map[string]int, error) {
	jobs, err := e.store.ListJobs(ctx, store.JobFilter{Status: store.StatusRunning})
	if err != nil {
		return nil, err
	}
	hosts := map[string]int{}
	for _, j := range jobs {
		if j.Host != "" && j.RunnerPID == 0 {
			hosts[j.Host]++
		}
	}
	return hosts, nil
}

// HostView is one host of the cluster in a snapshot (`faas top`'s hosts).
type HostView struct {
	Name          string
	Address       string
	State         string
	Capacity      int
	Load          int
	Instances     int
	LastHeartbeat time.Time
	Local         bool
}

// HostReporter is a Remote that can tell its hosts and their instances.
type HostReporter interface {
	Hosts() ([]HostView, []InstanceView)
}

// withHosts adds the cluster's hosts to a snapshot, and the other hosts'
// instances of the functions it shows; this host's instances get its name.
func (e *Engine) withHosts(snap *Snapshot, visible func(string) bool) {
	if e.cluster == nil {
		return
	}
	hr, ok := e.cluster.remote.(HostReporter)
	if !ok {
		return
	}
	for i := range snap.Instances {
		snap.Instances[i].Host = e.cluster.host
	}
	hosts, insts := hr.Hosts()
	snap.Hosts = hosts
	for _, in := range insts {
		if visible(in.Function) {
			snap.Instances = append(snap.Instances, in)
		}
	}
}
