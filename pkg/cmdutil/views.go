package cmdutil

import (
	"math"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/store"
)

// JobJSON is a job as `-o json` prints it (docs/json.md). Times are RFC 3339
// in UTC; unset times are null.
type JobJSON struct {
	ID              string     `json:"id"`
	Function        string     `json:"function"`
	Version         int        `json:"version"`
	Owner           string     `json:"owner"`
	Status          string     `json:"status"`
	Provider        string     `json:"provider"`
	Instance        string     `json:"instance"`
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
	LogsTruncated   bool       `json:"logs_truncated"`
	// Cost at the prices in force when the job ended, exact, in
	// pico-dollars (10⁻¹² USD), and as a dollar string.
	RequestPico int64  `json:"request_pico"`
	ComputePico int64  `json:"compute_pico"`
	CostPico    int64  `json:"cost_pico"`
	CostUSD     string `json:"cost_usd"`
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

// NewJobJSON converts a job; whole adds the result and logs.
func NewJobJSON(j store.Job, whole bool) JobJSON {
	v := JobJSON{
		ID: j.ID, Function: j.Function, Version: j.Version, Owner: j.Owner, Status: j.Status,
		Provider: j.Provider, Instance: j.Instance, Cold: j.Cold, InitMS: j.InitMS,
		QueuedAt: j.QueuedAt, StartedAt: timePtr(j.StartedAt), EndedAt: timePtr(j.EndedAt),
		DurationMS: float64(j.Duration.Microseconds()) / 1000, BilledMS: j.BilledMS,
		MemoryMB: j.MemoryMB, PeakMemoryBytes: j.PeakMemoryBytes, ExitCode: j.ExitCode,
		Error: j.Error, LogsTruncated: j.LogsTruncated,
		RequestPico: j.RequestPico, ComputePico: j.ComputePico, CostPico: j.RequestPico + j.ComputePico,
		CostUSD: billing.Pico(j.RequestPico + j.ComputePico).String(),
	}
	if whole {
		r, l := string(j.Result), string(j.Logs)
		v.Result, v.Logs = &r, &l
	}
	return v
}

// FunctionJSON is a function as `-o json` prints it.
type FunctionJSON struct {
	Name         string            `json:"name"`
	Version      int               `json:"version"`
	Versions     int               `json:"versions"`
	Runtime      string            `json:"runtime"`
	Mode         string            `json:"mode"`
	Provider     string            `json:"provider"`
	Owner        string            `json:"owner"`
	Filename     string            `json:"filename"`
	SHA256       string            `json:"sha256"`
	MemoryMB     int64             `json:"memory_mb"`
	CPUs         int               `json:"cpus"`
	DiskMB       int64             `json:"disk_mb"`
	TimeoutMS    int64             `json:"timeout_ms"`
	Concurrency  int               `json:"concurrency"`
	MinInstances int               `json:"min_instances"`
	MaxInstances int               `json:"max_instances"`
	Env          map[string]string `json:"env"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// NewFunctionJSON converts a function with its current version.
func NewFunctionJSON(f store.Function) FunctionJSON {
	c := f.Current.Config
	env := c.Env
	if env == nil {
		env = map[string]string{}
	}
	return FunctionJSON{
		Name: f.Name, Version: f.Current.Version, Versions: f.Versions, Runtime: string(c.Runtime),
		Mode: string(c.Mode), Provider: f.Provider, Owner: f.Owner, Filename: f.Current.Filename,
		SHA256: f.Current.SHA256, MemoryMB: c.MemoryMB, CPUs: c.CPUs, DiskMB: c.DiskMB,
		TimeoutMS: c.TimeoutMS, Concurrency: c.Concurrency, MinInstances: c.MinInstances,
		MaxInstances: c.MaxInstances, Env: env, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
}

// Ago prints a time relative to now for terminals.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	}
	return plural(int(d.Hours()/24), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Timestamp prints a time: relative on a terminal, RFC 3339 when piped.
func Timestamp(tty bool, now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if tty {
		return Ago(now, t)
	}
	return t.UTC().Format(time.RFC3339)
}

// Bytes prints a byte count in binary units, with one decimal; the unit is
// chosen after rounding, so 1048575 is 1.0MiB, not 1024.0KiB.
func Bytes(n int64) string {
	if n <= 0 {
		return "-"
	}
	if n < 1<<10 {
		return strconv.FormatInt(n, 10) + "B"
	}
	v := float64(n) / (1 << 10)
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	u := 0
	for u < len(units)-1 && math.Round(v*10)/10 >= 1024 {
		v /= 1024
		u++
	}
	return oneDecimal(v) + units[u]
}

func oneDecimal(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
