package api

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// Store turns a job read from JSON back into the store's, for printing.
func (v Job) Store() store.Job {
	j := store.Job{ID: v.ID, Function: v.Function, Version: v.Version, Owner: v.Owner, Status: v.Status,
		Provider: v.Provider, Instance: v.Instance, Host: v.Host, Cold: v.Cold, InitMS: v.InitMS, QueuedAt: v.QueuedAt,
		Duration: time.Duration(math.Round(v.DurationMS*1000)) * time.Microsecond, BilledMS: v.BilledMS,
		MemoryMB: v.MemoryMB, PeakMemoryBytes: v.PeakMemoryBytes, ExitCode: v.ExitCode, Error: v.Error, Cause: v.Cause, Trigger: v.Trigger,
		LogsTruncated: v.LogsTruncated, RequestPico: v.RequestPico, ComputePico: v.ComputePico,
		Retries: v.Retries, Attempts: v.Attempts, DestinationJob: v.DestinationJob, DestinationError: v.DestinationError,
		Callback: store.Callback{URL: v.CallbackURL, Status: v.CallbackStatus, Attempts: v.CallbackAttempts, Error: v.CallbackError}}
	if v.StartedAt != nil {
		j.StartedAt = *v.StartedAt
	}
	if v.EndedAt != nil {
		j.EndedAt = *v.EndedAt
	}
	if v.Result != nil {
		j.Result = []byte(*v.Result)
	}
	if v.Logs != nil {
		j.Logs = []byte(*v.Logs)
	}
	return j
}

// Store turns a function read from JSON back into the store's (without
// its code).
func (v Function) Store() store.Function {
	cfg := function.Config{Runtime: function.Runtime(v.Runtime), Mode: function.Mode(v.Mode), Handler: v.Handler, MemoryMB: v.MemoryMB,
		Interpreter: v.Interpreter, InterpreterVersion: v.InterpreterVersion,
		CPUs: v.CPUs, DiskMB: v.DiskMB, TmpMB: v.TmpMB, TimeoutMS: v.TimeoutMS, Concurrency: v.Concurrency,
		MinInstances: v.MinInstances, MaxInstances: v.MaxInstances, Env: v.Env, Network: v.Network, Secrets: v.Secrets,
		ScaleTarget: v.ScaleTarget, ScaleIdleMS: v.ScaleIdleMS, Schedule: v.Schedule, ScheduleTZ: v.ScheduleTZ, OnFailure: v.OnFailure}
	if v.HTTP == function.HTTPPublic {
		cfg.HTTP = function.HTTPPublic
	}
	return store.Function{Name: v.Name, Provider: v.Provider, Owner: v.Owner, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Versions: v.Versions, Current: store.Version{Function: v.Name, Version: v.Version, SHA256: v.SHA256, Tree: v.Tree, Deps: v.Deps,
			Filename: v.Filename, Config: cfg, CreatedAt: v.UpdatedAt}}
}

// DeployRequest is the body of POST /v1/functions (as JSON; code is
// base64). Zero fields take the same defaults as `faas deploy`.
type DeployRequest struct {
	Name     string          `json:"name"`
	Filename string          `json:"filename"`
	Code     []byte          `json:"code"`
	Runtime  string          `json:"runtime"`
	Mode     string          `json:"mode"`
	Provider string          `json:"provider"`
	Config   function.Config `json:"config"`
	// Keep, Set, EnvUnset, EnvReplace: a redeploy that changes only what
	// it names (the command line's), as engine.DeployRequest says.
	Keep       bool     `json:"keep,omitempty"`
	Set        []string `json:"set,omitempty"`
	EnvUnset   []string `json:"env_unset,omitempty"`
	EnvReplace bool     `json:"env_replace,omitempty"`
	// Tree says code is a canonical tar of a directory (pkg/bundle), and
	// filename the path of its entry file in it.
	Tree bool `json:"tree,omitempty"`
	// SecretUnset stops secrets a redeploy's function read.
	SecretUnset []string `json:"secret_unset,omitempty"`
}

// Engine is the request as the engine takes it.
func (r DeployRequest) Engine() engine.DeployRequest {
	return engine.DeployRequest{Name: r.Name, Filename: r.Filename, Code: r.Code, Runtime: function.Runtime(r.Runtime),
		Mode: function.Mode(r.Mode), Provider: r.Provider, Config: r.Config,
		Keep: r.Keep, Set: r.Set, EnvUnset: r.EnvUnset, EnvReplace: r.EnvReplace, SecretUnset: r.SecretUnset, Tree: r.Tree}
}

// Deployed is the answer to a deploy.
type Deployed struct {
	Function Function `json:"function"`
	Created  bool     `json:"created"`
	Notice   string   `json:"notice"`
	// Warning names the flag for a script that looks like it meant to
	// be a handler.
	Warning    string   `json:"warning,omitempty"`
	EnvChanges []string `json:"env_changes,omitempty"`
	// Built says a dependency build ran; BuildLog is what it printed (the
	// command line shows it, as a local deploy streams it).
	Built    bool   `json:"built,omitempty"`
	BuildLog string `json:"build_log,omitempty"`
}

// Engine is the answer as the engine gives it.
func (d Deployed) Engine() engine.DeployResult {
	f := d.Function.Store()
	return engine.DeployResult{Function: f.Name, Version: f.Current, Provider: f.Provider, Created: d.Created, Notice: d.Notice,
		Warning: d.Warning, EnvChanges: d.EnvChanges, Built: d.Built}
}

// RolledBack is the answer to a rollback.
type RolledBack struct {
	From    int `json:"from"`
	Version int `json:"version"`
}

// Queued is the answer to an async invoke (202).
type Queued struct {
	JobID  string `json:"job_id"`
	Status string `json:"status"`
}

// Error is every error the API answers with.
type Error struct {
	Error string `json:"error"`
	// Kind is usage, not_found, conflict, unauthorized, busy, too_large,
	// function or platform.
	Kind string `json:"kind"`
	Hint string `json:"hint,omitempty"`
}

var kinds = []struct {
	kind   fault.Kind
	name   string
	status int
}{
	{fault.Usage, "usage", http.StatusBadRequest},
	{fault.NotFound, "not_found", http.StatusNotFound},
	{fault.Conflict, "conflict", http.StatusConflict},
	{fault.Unauthorized, "unauthorized", http.StatusUnauthorized},
	{fault.Busy, "busy", http.StatusTooManyRequests},
	{fault.TooLarge, "too_large", http.StatusRequestEntityTooLarge},
	{fault.Function, "function", http.StatusUnprocessableEntity},
	{fault.Platform, "platform", http.StatusInternalServerError},
}

// NewError converts an error to its HTTP status and body.
func NewError(err error) (int, Error) {
	k := fault.KindOf(err)
	for _, e := range kinds {
		if e.kind == k {
			return e.status, Error{Error: err.Error(), Kind: e.name, Hint: fault.HintOf(err)}
		}
	}
	return http.StatusInternalServerError, Error{Error: err.Error(), Kind: "platform", Hint: fault.HintOf(err)}
}

// Err turns an error read from JSON back into one of its kind, so that the
// command line exits as it would locally.
func (e Error) Err() error {
	k := fault.Platform
	for _, x := range kinds {
		if x.name == e.Kind {
			k = x.kind
		}
	}
	err := &fault.Error{Kind: k, Err: errors.New(e.Error)}
	if e.Hint != "" {
		return fault.WithHint(err, e.Hint)
	}
	return err
}
