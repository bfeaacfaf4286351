// Package api is the JSON contract of faas: the records `-o json` prints
// (docs/json.md) and `faas serve` speaks, with the conversions both ways
// that let the command line talk to a remote server and print the same.
package api

import (
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// Job is a job as `-o json` prints it (docs/json.md). Times are RFC 3339
// in UTC; unset times are null.
type Job struct {
	ID       string `json:"id"`
	Function string `json:"function"`
	Version  int    `json:"version"`
	Owner    string `json:"owner"`
	Status   string `json:"status"`
	Provider string `json:"provider"`
	Instance string `json:"instance"`
	// Host is the faas worker that ran the job's last attempt ("" when
	// no cluster ran it).
	Host            string     `json:"host"`
	Cold            bool       `json:"cold"`
	InitMS          int64      `json:"init_ms"`
	QueuedAt        time.Time  `json:"queued_at"`
	StartedAt       *time.Time `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationMS      float64    `json:"duration_ms"`
	BilledMS        int64      `json:"billed_ms"`
	MemoryMB        int64      `json:"memory_mb"`
	PeakMemoryBytes int64      `json:"peak_memory_bytes"`
	ExitCode        *int       `json:"exit_code"`
	Error           string     `json:"error"`
	// Cause says whose failure a job that did not complete is: function,
	// platform, interrupted or lost; "" when it completed or has not ended.
	Cause         faastype.Cause `json:"cause"`
	LogsTruncated bool           `json:"logs_truncated"`
	// Trigger is what started the job: cli, api, http, schedule or
	// on-failure ("" for jobs from before it was recorded).
	Trigger string `json:"trigger"`
	// Cost at the prices in force when the job ended, exact, in
	// pico-dollars (10⁻¹² USD), and as a dollar string.
	RequestPico int64  `json:"request_pico"`
	ComputePico int64  `json:"compute_pico"`
	CostPico    int64  `json:"cost_pico"`
	CostUSD     string `json:"cost_usd"`
	// Retries is how many more runs a failed async job was allowed;
	// Attempts how many runs it had.
	Retries  int `json:"retries"`
	Attempts int `json:"attempts"`
	// The callback an async job posts its result to when it ends ("" for
	// none), and how that went: pending, delivered, failed or refused,
	// after how many tries, with the last error.
	CallbackURL      string `json:"callback_url"`
	CallbackStatus   string `json:"callback_status"`
	CallbackAttempts int    `json:"callback_attempts"`
	CallbackError    string `json:"callback_error"`
	// DestinationJob is the job the final failure queued on the
	// function's on-failure destination; DestinationError why none was.
	DestinationJob   string `json:"destination_job"`
	DestinationError string `json:"destination_error"`
	// Present only where the record was read whole (invoke, jobs show).
	Result *string `json:"result,omitempty"`
	Logs   *string `json:"logs,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewJob converts a job; whole adds the result and logs.
func NewJob(j store.Job, whole bool) Job {
	v := Job{
		ID: j.ID, Function: j.Function, Version: j.Version, Owner: j.Owner, Status: j.Status,
		Provider: j.Provider, Instance: j.Instance, Host: j.Host, Cold: j.Cold, InitMS: j.InitMS,
		QueuedAt: j.QueuedAt, StartedAt: timePtr(j.StartedAt), EndedAt: timePtr(j.EndedAt),
		DurationMS: float64(j.Duration.Microseconds()) / 1000, BilledMS: j.BilledMS,
		MemoryMB: j.MemoryMB, PeakMemoryBytes: j.PeakMemoryBytes, ExitCode: j.ExitCode,
		Error: j.Error, Cause: j.Cause, LogsTruncated: j.LogsTruncated, Trigger: j.Trigger, Retries: j.Retries, Attempts: j.Attempts,
		RequestPico: j.RequestPico, ComputePico: j.ComputePico, CostPico: j.RequestPico + j.ComputePico,
		CostUSD:     billing.Pico(j.RequestPico + j.ComputePico).String(),
		CallbackURL: j.Callback.URL, CallbackStatus: j.Callback.Status, CallbackAttempts: j.Callback.Attempts,
		CallbackError: j.Callback.Error, DestinationJob: j.DestinationJob, DestinationError: j.DestinationError,
	}
	if whole {
		r, l := string(j.Result), string(j.Logs)
		v.Result, v.Logs = &r, &l
	}
	return v
}

// Function is a function as `-o json` prints it.
type Function struct {
	Name     string `json:"name"`
	Version  int    `json:"version"`
	Versions int    `json:"versions"`
	Runtime  string `json:"runtime"`
	Mode     string `json:"mode"`
	Handler  string `json:"handler"`
	Provider string `json:"provider"`
	Owner    string `json:"owner"`
	Filename string `json:"filename"`
	// Tree says the code is a directory's files (Filename its entry);
	// Deps names its dependency environment ("" for none).
	Tree bool   `json:"tree"`
	Deps string `json:"deps"`
	// Interpreter and InterpreterVersion: what runs it, pinned at deploy
	// (the local provider; "" elsewhere).
	Interpreter        string            `json:"interpreter"`
	InterpreterVersion string            `json:"interpreter_version"`
	SHA256             string            `json:"sha256"`
	MemoryMB           int64             `json:"memory_mb"`
	CPUs               int               `json:"cpus"`
	DiskMB             int64             `json:"disk_mb"`
	TmpMB              int64             `json:"tmp_mb"`
	TimeoutMS          int64             `json:"timeout_ms"`
	Concurrency        int               `json:"concurrency"`
	MinInstances       int               `json:"min_instances"`
	MaxInstances       int               `json:"max_instances"`
	Env                map[string]string `json:"env"`
	Network            []string          `json:"network"`
	// Secrets name the secrets the function reads; never their values.
	Secrets     []function.SecretRef `json:"secrets"`
	ScaleTarget float64              `json:"scale_target"`
	ScaleIdleMS int64                `json:"scale_idle_ms"`
	// HTTP is who may call it at /fn/NAME: private or public.
	HTTP string `json:"http"`
	// Schedule and ScheduleTZ: when it runs by itself ("" for never);
	// OnFailure: where an async job's final failure goes ("" for nowhere).
	Schedule   string    `json:"schedule"`
	ScheduleTZ string    `json:"schedule_tz"`
	OnFailure  string    `json:"on_failure"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NewFunction converts a function with its current version.
func NewFunction(f store.Function) Function {
	c := f.Current.Config
	env := c.Env
	if env == nil {
		env = map[string]string{}
	}
	return Function{
		Name: f.Name, Version: f.Current.Version, Versions: f.Versions, Runtime: string(c.Runtime),
		Mode: string(c.Mode), Handler: handlerName(c), Provider: f.Provider, Owner: f.Owner, Filename: f.Current.Filename, Tree: f.Current.Tree, Deps: f.Current.Deps,
		Interpreter: c.Interpreter, InterpreterVersion: c.InterpreterVersion,
		SHA256: f.Current.SHA256, MemoryMB: c.MemoryMB, CPUs: c.CPUs, DiskMB: c.DiskMB, TmpMB: c.Tmp(),
		TimeoutMS: c.TimeoutMS, Concurrency: c.Concurrency, MinInstances: c.MinInstances,
		MaxInstances: c.MaxInstances, Env: env, Network: network(c.Network), ScaleTarget: c.ScaleTarget, ScaleIdleMS: c.ScaleIdleMS,
		Schedule: c.Schedule, ScheduleTZ: c.ScheduleTZ, OnFailure: c.OnFailure,
		Secrets: secretRefs(c.Secrets), HTTP: c.HTTPAccess(), CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
}

func secretRefs(refs []function.SecretRef) []function.SecretRef {
	if refs == nil {
		return []function.SecretRef{}
	}
	return refs
}

func network(rules []string) []string {
	if rules == nil {
		return []string{}
	}
	return rules
}

// handlerName is a handler-mode version's entry point, "" for a script.
func handlerName(c function.Config) string {
	if c.Mode != function.Handler {
		return ""
	}
	return c.Entry()
}

// Version is one version of a function, as `faas describe -o json` and
// GET /v1/functions/{name}/versions show it.
type Version struct {
	Version  int    `json:"version"`
	Current  bool   `json:"current"`
	SHA256   string `json:"sha256"`
	Filename string `json:"filename"`
	// Tree says the version's code is a directory's files (Filename is
	// its entry file); Deps names its dependency environment.
	Tree      bool            `json:"tree"`
	Deps      string          `json:"deps,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Config    function.Config `json:"config"`
}

// NewVersions converts a function's versions; current is the current one.
func NewVersions(vs []store.Version, current int) []Version {
	out := make([]Version, 0, len(vs))
	for _, v := range vs {
		out = append(out, Version{Version: v.Version, Current: v.Version == current, SHA256: v.SHA256, Filename: v.Filename,
			Tree: v.Tree, Deps: v.Deps, CreatedAt: v.CreatedAt, Config: v.Config})
	}
	return out
}

// Store turns a version read from JSON back into the store's.
func (v Version) Store(function string) store.Version {
	return store.Version{Function: function, Version: v.Version, SHA256: v.SHA256, Filename: v.Filename, CreatedAt: v.CreatedAt, Config: v.Config}
}
