// Package provider is what runs a function's code: the interface the engine
// calls, and the limits every implementation enforces the same way.
package provider

import (
	"context"
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

// Runner runs invocations. The local provider runs each in a sandboxed
// process; instance-based providers implement it over their agents.
type Runner interface {
	Name() string
	Run(ctx context.Context, inv Invocation) (Outcome, error)
}

// Reaper is implemented by providers that can clean up after a job whose
// faas process died mid-run: kill what it left running, free its resources.
type Reaper interface {
	Reap(jobID string)
}
