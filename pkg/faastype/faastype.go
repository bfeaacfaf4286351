// Package faastype holds the words every layer of faas shares: an
// invocation, how it ended and why, an instance, a log line and the output
// limits. It imports nothing of faas but the pure pkg/function, so that the
// store, the sandbox, the agent and the providers can all speak of an
// invocation without importing each other (lima's limatype is the model).
package faastype

import (
	"errors"
	"time"

	"github.com/faasdev/faas/pkg/function"
)

// Output limits, the same for every provider. The result limit is Lambda's
// synchronous payload limit.
const (
	ResultLimit = 6 << 20
	LogLimit    = 1 << 20
)

// Invocation is one call of one version of a function.
type Invocation struct {
	JobID    string
	Function string
	Version  int
	SHA256   string
	Filename string
	Code     []byte
	// CodeName is the name the code is stored under, where the code itself
	// is not at hand (in an agent).
	CodeName string
	// Tree says Code is the canonical tar of a directory, and Filename
	// the path of its entry file in it.
	Tree bool
	// Deps is the key of the version's dependency environment ("" for
	// none), under the home's envs.
	Deps    string
	Config  function.Config
	Payload []byte
	// Timeout overrides Config.Timeout when positive.
	Timeout time.Duration
	// Secrets are the values of the secrets Config.Secrets names, opened
	// for this run only: never recorded, logged or shown.
	Secrets map[string][]byte
	// HTTP says Payload is an HTTPEvent (a job with trigger http): a
	// script gets its body on stdin and the request in CGI variables.
	HTTP bool
}

// EffectiveTimeout is the timeout this invocation runs under.
func (inv Invocation) EffectiveTimeout() time.Duration {
	if inv.Timeout > 0 {
		return inv.Timeout
	}
	return inv.Config.Timeout()
}

// Status is how an invocation ended.
type Status string

const (
	Completed Status = "completed"
	Failed    Status = "failed"
	TimedOut  Status = "timeout"
)

// Cause says whose failure a job that did not complete is: the function's
// own, the platform's, the caller's (interrupted), or nobody knows because
// the process that ran it died (lost). A completed job has no cause.
type Cause string

const (
	CauseNone        Cause = ""
	CauseFunction    Cause = "function"
	CausePlatform    Cause = "platform"
	CauseInterrupted Cause = "interrupted"
	CauseLost        Cause = "lost"
)

// What starts a job: its trigger.
const (
	TriggerCLI       = "cli"        // a local `faas invoke`
	TriggerAPI       = "api"        // faas serve's invoke API (and FAAS_SERVER)
	TriggerHTTP      = "http"       // an HTTP function's route
	TriggerSchedule  = "schedule"   // its schedule
	TriggerOnFailure = "on-failure" // another job's failure destination
)

// Triggers lists the triggers, for flags and their help.
var Triggers = []string{TriggerCLI, TriggerAPI, TriggerHTTP, TriggerSchedule, TriggerOnFailure}

// Outcome is what a provider reports of an invocation that ran. A failure
// of the function is an Outcome; a failure of the platform is an error.
type Outcome struct {
	Status          Status
	ExitCode        *int
	Error           string
	Result          []byte
	Logs            []byte
	LogsTruncated   bool
	PeakMemoryBytes int64
	StartedAt       time.Time
	EndedAt         time.Time
	Instance        string
	Cold            bool
	InitMS          int64
	// Interrupted is set when the caller's context ended the run.
	Interrupted bool
}

// Duration is the wall time the function ran.
func (o Outcome) Duration() time.Duration { return o.EndedAt.Sub(o.StartedAt) }

// Cause is whose doing the outcome is: none when it completed, the
// caller's when it was interrupted, else the function's.
func (o Outcome) Cause() Cause {
	switch {
	case o.Interrupted:
		return CauseInterrupted
	case o.Status == Completed:
		return CauseNone
	default:
		return CauseFunction
	}
}

// InterruptedError is the error of an invocation its caller cancelled.
const InterruptedError = "interrupted: the invocation was cancelled"

// Interrupted is the outcome of an invocation cancelled before it ran.
func Interrupted(now time.Time) Outcome {
	return Outcome{Status: Failed, Error: InterruptedError, Interrupted: true, StartedAt: now, EndedAt: now}
}

// ErrGone says an instance cannot be reached any more (its agent exited,
// its VM was deleted): the engine forgets it and starts another.
var ErrGone = errors.New("the instance is gone")

// ErrCallerGone is the cause of a call's cancellation when the process it
// ran for died without a word (killed, not interrupted): its job is left
// running, to be found lost, as when that process runs the job itself.
var ErrCallerGone = errors.New("the caller is gone")

// Instance is one running copy of a function, as the engine records it.
type Instance struct {
	ID       string
	Function string
	Provider string
	// State is the recorded state: starting, ready, broken.
	State    string
	Endpoint string
	Token    string
	PID      int
	PIDStart int64
	// MemoryMB, when a provider sets it at launch, is the instance's real
	// memory (a VM gets at least what an OS needs).
	MemoryMB int64
}

// InstanceStats is what an instance reports of itself.
type InstanceStats struct {
	RSSBytes   int64
	CPUSeconds float64
	UptimeS    float64
	IdleS      float64
	InFlight   int
	Workers    int
	Invoked    int64
	// DiskUsed is the instance's disk in use, where the provider knows it.
	DiskUsed int64
	// MemoryTotal and DiskTotal are the instance's own, where the provider
	// knows them (a VM); 0: the configured limits apply.
	MemoryTotal int64
	DiskTotal   int64
}

// LogLine is one line a function printed.
type LogLine struct {
	Time     time.Time `json:"time"`
	JobID    string    `json:"job_id"`
	Instance string    `json:"instance"`
	Function string    `json:"function"`
	Line     string    `json:"line"`
}
