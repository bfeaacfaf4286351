package engine

import (
	"context"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// Store is what the engine keeps its records in. The engine owns this
// interface; pkg/store/sqlite implements it (and a shared database can),
// with the records of pkg/store. Every method is one transaction or one
// consistent read; money is integer pico-dollars.
type Store interface {
	FunctionStore
	JobStore
	InstanceStore
	AccountStore
	SecretStore
	ScheduleStore
	CallbackStore
	Close() error
}

// FunctionStore keeps functions and their versions.
type FunctionStore interface {
	Deploy(ctx context.Context, r store.DeployRequest) (v store.Version, created bool, err error)
	GetFunction(ctx context.Context, name string) (store.Function, error)
	ListFunctions(ctx context.Context, owner string, ownerSet bool) ([]store.Function, error)
	DeleteFunction(ctx context.Context, name string) error
	Rollback(ctx context.Context, name string, to int, now time.Time) (from, target int, err error)
	// ListVersions lists a function's versions, newest first, without code.
	ListVersions(ctx context.Context, name string) ([]store.Version, error)
	// GetVersion reads one version with its code.
	GetVersion(ctx context.Context, name string, version int) (store.Version, error)
	// DepsKeys lists the dependency environments any version uses.
	DepsKeys(ctx context.Context) ([]string, error)
}

// JobStore keeps jobs and the queue.
type JobStore interface {
	// ClaimJob records a running job and places it, in one transaction.
	ClaimJob(ctx context.Context, j store.Job, pl store.Placement) (store.Placed, error)
	// StartJob records a running job, unplaced (a cluster places it).
	StartJob(ctx context.Context, j store.Job) error
	// HandJob records the host that runs a running job's attempt; remote
	// says another host's worker does (no process id of this host judges it).
	HandJob(ctx context.Context, id, host string, remote bool) error
	// PlaceAgain places a claimed job once more (its instance was gone).
	PlaceAgain(ctx context.Context, jobID, fn string, pl store.Placement, now time.Time) (store.Placed, error)
	// FinishJob records how a running job ended; with requeue, the run is
	// billed and the job waits again (a retry).
	FinishJob(ctx context.Context, j store.Job, requeue bool) error
	// MarkLost ends the running jobs whose runner is not alive.
	MarkLost(ctx context.Context, now time.Time, alive func(pid int, start int64) bool) ([]string, error)
	// Beat records that the runner lives at now and beats every every;
	// ForgetRunner removes it.
	Beat(ctx context.Context, r store.Runner, now time.Time, every time.Duration) error
	ForgetRunner(ctx context.Context, r store.Runner) error
	// MarkSilent ends the running jobs of other hosts' runners not heard
	// from for three of their beats (or, never heard from, for grace since
	// the job started), each once.
	MarkSilent(ctx context.Context, now time.Time, grace time.Duration) ([]string, error)
	GetJob(ctx context.Context, id string) (store.Job, error)
	// PruneJobs deletes at most limit of the oldest ended jobs queued
	// before before (with dry, counts them all), leaving the roll-ups bills
	// read.
	PruneJobs(ctx context.Context, before time.Time, limit int, dry bool) (store.Pruned, error)
	// JobState reads only a job's status and runner.
	JobState(ctx context.Context, id string) (store.Job, error)
	ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error)
	RecentLogs(ctx context.Context, function string, since time.Time, limit int) ([]store.Job, error)
	EnqueueJob(ctx context.Context, j store.Job) error
	// ClaimNext claims the oldest waiting job for the runner (pid, start).
	ClaimNext(ctx context.Context, now time.Time, pid int, pidStart int64) (j store.Job, ok bool, err error)
	CountWaiting(ctx context.Context) (int, error)
	LastJobs(ctx context.Context, now time.Time) (map[string]time.Time, error)
}

// InstanceStore keeps instances, their usage samples and scale events.
type InstanceStore interface {
	InstanceUp(ctx context.Context, in faastype.Instance, now time.Time) error
	RemoveInstance(ctx context.Context, id string) error
	ListInstances(ctx context.Context, fn string) ([]store.InstanceRow, error)
	NewInstance(ctx context.Context, fn string, pl store.Placement, now time.Time) (faastype.Instance, error)
	SetInstanceState(ctx context.Context, id, state string, now time.Time) error
	ResizeInstance(ctx context.Context, id string, cpus int, memoryMB, diskMB int64, now time.Time) error
	AddSamples(ctx context.Context, samples []store.Sample) error
	SamplesSince(ctx context.Context, since time.Time) ([]store.Sample, error)
	RecentActivity(ctx context.Context, since time.Time) ([]store.Activity, error)
	AddScaleEvent(ctx context.Context, e store.ScaleEvent) error
	ScaleEvents(ctx context.Context, function string, since time.Time, limit int) ([]store.ScaleEvent, error)
}

// AccountStore keeps settings, spend, bills and API tokens.
type AccountStore interface {
	Config(ctx context.Context) (map[string]string, error)
	SetConfig(ctx context.Context, key, value string, now time.Time) error
	Spend(ctx context.Context, month, owner string) (int64, error)
	// Bill reads what a period's bill is computed from, at once.
	Bill(ctx context.Context, f store.BillFilter) (store.BillData, error)
	CreateToken(ctx context.Context, t store.Token) error
	Tokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, name string) error
}

// SecretStore keeps each owner's secrets, sealed by the engine: the store
// never sees a plain value.
type SecretStore interface {
	// PutSecret stores a secret, replacing the owner's one of that name.
	PutSecret(ctx context.Context, s store.Secret) (created bool, err error)
	// ListSecrets lists an owner's secrets without their values.
	ListSecrets(ctx context.Context, owner string) ([]store.Secret, error)
	// GetSecrets reads an owner's named secrets, sealed; any name the
	// owner has none of is not found.
	GetSecrets(ctx context.Context, owner string, names []string) ([]store.Secret, error)
	DeleteSecret(ctx context.Context, owner, name string) error
}

// ScheduleStore keeps which schedule ticks have fired.
type ScheduleStore interface {
	// ClaimTick claims a function's tick and queues j, in one transaction:
	// claimed is false when another process claimed it first, and then
	// nothing is queued. A job without an id is not queued; errText says
	// why it could not be.
	ClaimTick(ctx context.Context, function string, tick time.Time, j store.Job, errText string, now time.Time) (claimed bool, err error)
	// LastTicks is each function's latest claimed tick.
	LastTicks(ctx context.Context) (map[string]time.Time, error)
}

// CallbackStore keeps what happened when async jobs ended: their
// callbacks' delivery and their failure destinations.
type CallbackStore interface {
	RecordCallback(ctx context.Context, id string, cb store.Callback) error
	// ClaimDestination records a failed job's destination job and queues
	// it, once, in one transaction (claimed is false when it was already
	// recorded). A job without an id is not queued; errText says why.
	ClaimDestination(ctx context.Context, failedID string, j store.Job, errText string) (claimed bool, err error)
}
