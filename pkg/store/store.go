// Package store is the records faas keeps (functions and their versions,
// instances, jobs and the queue, usage, bills, tokens, scale events), as
// every implementation of the engine's Store reads and writes them. The
// SQLite implementation is pkg/store/sqlite.
package store

import (
	"errors"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

// BillRow is one function's sums over a period.
type BillRow struct {
	Function    string
	Invocations int64
	Errors      int64
	DurationUS  int64
	BilledMS    int64
	MBMS        int64
	RequestPico int64
	ComputePico int64
}

// BillFilter selects the days of a bill: [From, To), whole local days.
type BillFilter struct {
	From, To time.Time
	Function string
	Owner    string
	// OwnerSet says Owner filters even when empty (the local user).
	OwnerSet bool
	// Spender is whose spend in From's month a bill reads (the budget's
	// owner), whatever the filter.
	Spender string
}

// BillData is what a period's bill is computed from, read together: the
// sums per function (by name), the cost per day, the Spender's spend in
// the month and the stored settings (prices, free tier, budget).
type BillData struct {
	Rows   []BillRow
	Daily  map[string]int64
	Spent  int64
	Config map[string]string
}

// SyntheticJobs describes ended jobs to insert in bulk, for benchmarks and
// tests of the bill: N jobs of one function, the i-th queued at
// From + i×Spacing, all alike but for the time.
type SyntheticJobs struct {
	N           int
	Function    string
	Owner       string
	From        time.Time
	Spacing     time.Duration
	DurationUS  int64
	BilledMS    int64
	MemoryMB    int64
	RequestPico int64
	ComputePico int64
	// FailEvery makes every n-th job failed (0: none).
	FailEvery int
	// Trigger is what started the jobs ("" as before it was kept).
	Trigger string
}

// Secret is one of an owner's secrets, sealed.
type Secret struct {
	Owner string
	Name  string
	// Sealed is the value as the engine sealed it (nonce and ciphertext);
	// lists leave it empty.
	Sealed []byte
	// Size is the plain value's length in bytes.
	Size      int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Token is an API token of `faas serve`, by its name (the owner).
type Token struct {
	Name      string
	Hash      string
	CreatedAt time.Time
}

// Function is a deployed function and its current version.
type Function struct {
	Name      string
	Provider  string
	Owner     string
	CreatedAt time.Time
	UpdatedAt time.Time
	Current   Version
	Versions  int
}

// Version is the code and config of one deploy.
type Version struct {
	Function  string
	Version   int
	SHA256    string
	Filename  string
	Code      []byte
	Config    function.Config
	CreatedAt time.Time
	// Tree says Code is the canonical tar of a directory (pkg/bundle) and
	// Filename the path of its entry file in it; else Code is one file.
	Tree bool
	// Deps is the key of the dependency environment built for the version
	// ("" for none); BuildLog is what its build printed.
	Deps     string
	BuildLog []byte
}

// DeployRequest is what a deploy writes.
type DeployRequest struct {
	Name     string
	Provider string
	Owner    string
	Filename string
	Code     []byte
	SHA256   string
	Config   function.Config
	Tree     bool
	Deps     string
	BuildLog []byte
	Now      time.Time
	// OwnerOnly refuses to add a version to another owner's function.
	OwnerOnly bool
}

// Instance states.
const (
	InstanceStarting = "starting"
	InstanceReady    = "ready"
	InstanceDraining = "draining"
)

// Placement says how to place a job on a function's instances.
type Placement struct {
	Provider     string
	Slots        int
	MaxInstances int
	MemoryMB     int64
	CPUs         int
	DiskMB       int64
	Version      int
}

// Placed is where a job went: an instance, and whether the caller must
// launch it (a new instance, recorded as starting).
type Placed struct {
	Instance faastype.Instance
	Launch   bool
}

// InstanceRow is an instance as recorded, with its jobs in flight.
type InstanceRow struct {
	faastype.Instance
	Version   int
	Slots     int
	CPUs      int
	MemoryMB  int64
	DiskMB    int64
	InFlight  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Job statuses.
const (
	StatusWaiting   = "waiting"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusTimeout   = "timeout"
	StatusLost      = "lost"
)

// Statuses lists every job status.
var Statuses = []string{StatusWaiting, StatusRunning, StatusCompleted, StatusFailed, StatusTimeout, StatusLost}

// Job is one invocation.
type Job struct {
	ID              string
	Function        string
	Version         int
	Owner           string
	Status          string
	Provider        string
	Instance        string
	Cold            bool
	InitMS          int64
	QueuedAt        time.Time
	StartedAt       time.Time
	EndedAt         time.Time
	Duration        time.Duration
	BilledMS        int64
	MemoryMB        int64
	PeakMemoryBytes int64
	ExitCode        *int
	Error           string
	// Cause says whose failure an unsuccessful job is (empty when it
	// completed, or has not ended).
	Cause         faastype.Cause
	Payload       []byte
	Result        []byte
	Logs          []byte
	LogsTruncated bool
	RunnerPID     int
	RunnerStart   int64
	// RunnerHost is the host of the runner (proc.HostID), where its pid
	// means something; written by the store, read by none but tests.
	RunnerHost string
	// Host is the faas worker that ran the job's last attempt ("" when
	// no cluster ran it): the server's own host, or another's.
	Host string
	// RequestPico and ComputePico are what the job cost, in pico-dollars,
	// at the prices in force when it ended.
	RequestPico int64
	ComputePico int64
	// Retries is how many more runs a failed async job gets; Attempts how
	// many runs it had. Timeout overrides the function's when positive.
	Retries  int
	Attempts int
	Timeout  time.Duration
	// Trigger is what started the job (faastype.Trigger*).
	Trigger string
	// Callback is where an async job's result is posted when it ends,
	// and how that went (callback.go).
	Callback Callback
	// DestinationJob is the job the final failure queued on the
	// function's on-failure destination; DestinationError why none was.
	DestinationJob   string
	DestinationError string
}

// Callback statuses.
const (
	CallbackPending   = "pending"
	CallbackDelivered = "delivered"
	CallbackFailed    = "failed"
	CallbackRefused   = "refused"
)

// Callback is an async job's callback and its delivery.
type Callback struct {
	URL      string
	Status   string
	Attempts int
	Error    string
}

// Pruned is what a prune of old jobs removed (or, dry, would remove): jobs,
// and the bytes of their payloads, results and logs.
type Pruned struct {
	Jobs  int64
	Bytes int64
}

// Runner is a process that runs jobs: its host (proc.HostID), its pid and
// the pid's start time there.
type Runner struct {
	Host  string
	PID   int
	Start int64
}

// Month is the billing month of a time: "2006-01" in the local time zone.
func Month(t time.Time) string { return t.Local().Format("2006-01") }

// Day is the billing day of a time: "2006-01-02" in the local time zone.
func Day(t time.Time) string { return t.Local().Format("2006-01-02") }

// Ended reports whether the job reached a final status.
func (j Job) Ended() bool {
	return j.Status != StatusWaiting && j.Status != StatusRunning
}

// JobFilter selects jobs; zero fields match everything.
type JobFilter struct {
	Function string
	Status   string
	Trigger  string
	Limit    int
	// Owner filters by owner when OwnerSet (Owner "" is the local user).
	Owner    string
	OwnerSet bool
}

// Sample is one reading of an instance.
type Sample struct {
	Time      time.Time
	Instance  string
	Function  string
	CPUPct    float64
	MemUsed   int64
	MemTotal  int64
	DiskUsed  int64
	DiskTotal int64
	Load      float64
	InFlight  int
}

// Activity is a job as `faas top` counts it.
type Activity struct {
	Function string
	Status   string
	Cold     bool
	QueuedAt time.Time
	Duration time.Duration
}

// ScaleEvent is one decision of the watcher.
type ScaleEvent struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	Function string    `json:"function"`
	Instance string    `json:"instance"`
	Kind     string    `json:"kind"`
	Reason   string    `json:"reason"`
	Outcome  string    `json:"outcome"`
}

// ErrAtMax says a function already has max_instances instances.
var ErrAtMax = errors.New("the function is at max_instances")
