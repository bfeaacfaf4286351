// Package api is the words of the agent's HTTP+JSON protocol: what a
// caller sends to POST /invoke and what GET /healthz, /stats and /logs
// answer. The client (pkg/agent/client) and the server (pkg/agent) both
// speak it; a provider links only the client (lima's hostagent/api is the
// model).
package api

import (
	"errors"
	"time"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

// InvokeRequest is the body of POST /invoke. The code is not sent: the agent
// finds it by its sha256 under its home (the provider puts it there).
type InvokeRequest struct {
	JobID     string          `json:"job_id"`
	Function  string          `json:"function"`
	Version   int             `json:"version"`
	SHA256    string          `json:"sha256"`
	Filename  string          `json:"filename"`
	CodeName  string          `json:"code_name"`
	Tree      bool            `json:"tree,omitempty"`
	Deps      string          `json:"deps,omitempty"`
	Config    function.Config `json:"config"`
	Payload   []byte          `json:"payload"`
	TimeoutMS int64           `json:"timeout_ms"`
	// Secrets are the values of the secrets the config names, for this
	// run: the agent keeps them in memory and in its jails only.
	Secrets map[string][]byte `json:"secrets,omitempty"`
	// HTTP says Payload is a faastype.HTTPEvent (an HTTP function's call).
	HTTP bool `json:"http,omitempty"`
}

// Invocation converts the request for the sandbox.
func (r InvokeRequest) Invocation() faastype.Invocation {
	return faastype.Invocation{
		JobID: r.JobID, Function: r.Function, Version: r.Version, SHA256: r.SHA256,
		Filename: r.Filename, CodeName: r.CodeName, Tree: r.Tree, Deps: r.Deps, Config: r.Config, Payload: r.Payload,
		Timeout: time.Duration(r.TimeoutMS) * time.Millisecond, Secrets: r.Secrets, HTTP: r.HTTP,
	}
}

// NewInvokeRequest builds the request for an invocation.
func NewInvokeRequest(inv faastype.Invocation) InvokeRequest {
	return InvokeRequest{
		JobID: inv.JobID, Function: inv.Function, Version: inv.Version, SHA256: inv.SHA256,
		Filename: inv.Filename, CodeName: codestore.Name(inv), Tree: inv.Tree, Deps: inv.Deps, Config: inv.Config, Payload: inv.Payload,
		TimeoutMS: inv.EffectiveTimeout().Milliseconds(), Secrets: inv.Secrets, HTTP: inv.HTTP,
	}
}

// InvokeResponse is the body of a 200 answer to POST /invoke: how the
// invocation ended. A 4xx/5xx answer is an ErrorResponse.
type InvokeResponse struct {
	Status          string    `json:"status"`
	ExitCode        *int      `json:"exit_code"`
	Error           string    `json:"error"`
	Result          []byte    `json:"result"`
	Logs            []byte    `json:"logs"`
	LogsTruncated   bool      `json:"logs_truncated"`
	PeakMemoryBytes int64     `json:"peak_memory_bytes"`
	StartedAt       time.Time `json:"started_at"`
	EndedAt         time.Time `json:"ended_at"`
	Cold            bool      `json:"cold"`
	InitMS          int64     `json:"init_ms"`
	Worker          string    `json:"worker"`
	Interrupted     bool      `json:"interrupted"`
}

// Outcome converts the response for the engine.
func (r InvokeResponse) Outcome() faastype.Outcome {
	return faastype.Outcome{
		Status: faastype.Status(r.Status), ExitCode: r.ExitCode, Error: r.Error, Result: r.Result,
		Logs: r.Logs, LogsTruncated: r.LogsTruncated, PeakMemoryBytes: r.PeakMemoryBytes,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt, Cold: r.Cold, InitMS: r.InitMS,
		Interrupted: r.Interrupted,
	}
}

// NewInvokeResponse is the answer for an outcome run by worker.
func NewInvokeResponse(o faastype.Outcome, worker string) InvokeResponse {
	return InvokeResponse{
		Status: string(o.Status), ExitCode: o.ExitCode, Error: o.Error, Result: o.Result, Logs: o.Logs,
		LogsTruncated: o.LogsTruncated, PeakMemoryBytes: o.PeakMemoryBytes, StartedAt: o.StartedAt,
		EndedAt: o.EndedAt, Cold: o.Cold, InitMS: o.InitMS, Worker: worker, Interrupted: o.Interrupted,
	}
}

// ErrorResponse is the body of an answer that is not 200.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Health is the answer to GET /healthz.
type Health struct {
	OK       bool   `json:"ok"`
	Instance string `json:"instance"`
	Function string `json:"function"`
	PID      int    `json:"pid"`
}

// Stats is the answer to GET /stats.
type Stats struct {
	Instance   string  `json:"instance"`
	Function   string  `json:"function"`
	PID        int     `json:"pid"`
	UptimeS    float64 `json:"uptime_s"`
	IdleS      float64 `json:"idle_s"`
	InFlight   int     `json:"in_flight"`
	Invoked    int64   `json:"invocations"`
	Errors     int64   `json:"errors"`
	ColdStarts int64   `json:"cold_starts"`
	Workers    int     `json:"workers"`
	// RSSBytes and CPUSeconds cover the agent and its workers.
	RSSBytes   int64   `json:"rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Pinned     bool    `json:"pinned"`
}

// ErrCodeMissing says the agent does not have the version's code (a 412
// answer): the caller sends it and asks again.
var ErrCodeMissing = errors.New("the instance does not have this version's code")

// LogLine is one line of GET /logs.
type LogLine = faastype.LogLine

// ReadyLine is what an agent started with --ready-fd writes on that fd
// once it listens: whoever launched it need not poll /healthz.
const ReadyLine = "ready\n"

// BecomeRequest is the body of POST /become, sent once to a spare agent
// (pkg/spare) by the launch that claimed it: from then on it is Instance,
// of Function, on its socket (moved to the instance's), answering Token, and
// its stem worker imports Invoke's version.
type BecomeRequest struct {
	Instance string `json:"instance"`
	Function string `json:"function"`
	Token    string `json:"token"`
	Pinned   bool   `json:"pinned,omitempty"`
	// Spares is how many spares it keeps once it is the instance.
	Spares int           `json:"spares,omitempty"`
	Invoke InvokeRequest `json:"invoke"`
}
