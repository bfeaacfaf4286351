// Package provider is the interface a provider of instances implements
// (launch, invoke, stop), its optional capabilities, and the registry
// through which providers make themselves known: the engine names none of
// them. The words they speak are in pkg/faastype.
package provider

import (
	"context"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

// Provider launches instances and runs invocations on them.
type Provider interface {
	Name() string
	// Endpoint is where the instance with this id will answer.
	Endpoint(id string) string
	// Launch starts an instance for inv's function and waits until it
	// answers; the returned instance carries its endpoint and process.
	Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error)
	// Invoke runs inv on the instance; ErrGone when it cannot be reached.
	// starting says the instance may still be coming up.
	Invoke(ctx context.Context, inst faastype.Instance, inv faastype.Invocation, starting bool) (faastype.Outcome, error)
	// Stop ends an instance.
	Stop(ctx context.Context, inst faastype.Instance) error
	// Alive recomputes whether the instance runs, without asking it.
	Alive(inst faastype.Instance) bool
}

// LogStreamer is implemented by providers whose instances stream what their
// jobs print while they run.
type LogStreamer interface {
	// FollowLogs calls fn for each line the instance's jobs print from
	// since (zero: from now) until ctx ends or the instance goes.
	FollowLogs(ctx context.Context, inst faastype.Instance, since time.Time, fn func(faastype.LogLine)) error
}

// InstanceLogger is implemented by providers that keep a log of each
// instance's own life (start-up, crashes, stop).
type InstanceLogger interface {
	// InstanceLogs lists the log files of a function's instances, past and
	// present, by instance id.
	InstanceLogs(function string) (map[string]string, error)
}

// StatsReader is implemented by providers that can read an instance's
// usage (the agent's /stats, a VM's info).
type StatsReader interface {
	Stats(ctx context.Context, inst faastype.Instance) (faastype.InstanceStats, error)
}

// ConfigChecker is implemented by providers that can tell at deploy that
// a function's config will not launch on them (a disk below a VM image's
// own size), rather than at its first invocation.
type ConfigChecker interface {
	CheckConfig(cfg function.Config) error
}

// Configurable is implemented by providers that have settings of their
// own in `faas config` (registered in pkg/config): the engine hands them
// the stored settings before it launches an instance.
type Configurable interface {
	Configure(stored map[string]string)
}

// Resizer is implemented by providers that can give an instance more
// CPUs, memory and disk (Multipass: stop, set, start).
type Resizer interface {
	Resize(ctx context.Context, inst faastype.Instance, cpus int, memoryMB, diskMB int64) error
}
