// Package provider is what runs a function's code: the interface the engine
// calls, and the limits every implementation enforces the same way.
package provider

import (
	"context"
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
	Config   function.Config
	Payload  []byte
	// Timeout overrides Config.Timeout when positive.
	Timeout time.Duration
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

// ErrGone says an instance cannot be reached any more (its agent exited,
// its VM was deleted): the engine forgets it and starts another.
var ErrGone = errors.New("the instance is gone")

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

// Provider launches instances and runs invocations on them.
type Provider interface {
	Name() string
	// Endpoint is where the instance with this id will answer.
	Endpoint(id string) string
	// Launch starts an instance for inv's function and waits until it
	// answers; the returned instance carries its endpoint and process.
	Launch(ctx context.Context, inst Instance, inv Invocation) (Instance, error)
	// Invoke runs inv on the instance; ErrGone when it cannot be reached.
	// starting says the instance may still be coming up.
	Invoke(ctx context.Context, inst Instance, inv Invocation, starting bool) (Outcome, error)
	// Stop ends an instance.
	Stop(ctx context.Context, inst Instance) error
	// Alive recomputes whether the instance runs, without asking it.
	Alive(inst Instance) bool
}

// LogLine is one line a function printed.
type LogLine struct {
	Time     time.Time `json:"time"`
	JobID    string    `json:"job_id"`
	Instance string    `json:"instance"`
	Function string    `json:"function"`
	Line     string    `json:"line"`
}

// LogStreamer is implemented by providers whose instances stream what their
// jobs print while they run.
type LogStreamer interface {
	// FollowLogs calls fn for each line the instance's jobs print from
	// since (zero: from now) until ctx ends or the instance goes.
	FollowLogs(ctx context.Context, inst Instance, since time.Time, fn func(LogLine)) error
}

// InstanceLogger is implemented by providers that keep a log of each
// instance's own life (start-up, crashes, stop).
type InstanceLogger interface {
	// InstanceLogs lists the log files of a function's instances, past and
	// present, by instance id.
	InstanceLogs(function string) (map[string]string, error)
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

// StatsReader is implemented by providers that can read an instance's
// usage (the agent's /stats, a VM's info).
type StatsReader interface {
	Stats(ctx context.Context, inst Instance) (InstanceStats, error)
}

// Resizer is implemented by providers that can give an instance more
// CPUs, memory and disk (Multipass: stop, set, start).
type Resizer interface {
	Resize(ctx context.Context, inst Instance, cpus int, memoryMB, diskMB int64) error
}
