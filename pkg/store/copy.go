package store

import (
	"fmt"
	"time"
)

// Kind is how a column's values travel between stores: each store writes
// them in its own dialect (SQLite keeps times as Unix milliseconds and
// booleans as 0/1; PostgreSQL as timestamptz and boolean).
type Kind int

// Column kinds. A value of any kind may be nil (SQL NULL).
const (
	KindText  Kind = iota // string
	KindInt               // int64
	KindFloat             // float64
	KindBytes             // []byte, never nil unless NULL
	KindBool              // bool
	KindTime              // time.Time, UTC, millisecond precision
)

// Column is one column of a copied table.
type Column struct {
	Name string
	Kind Kind
}

// Table is one table of the schema as `faas db copy` copies it.
type Table struct {
	Name    string
	Columns []Column
	// Serial names an identity column whose sequence follows the copied
	// rows ("" for none).
	Serial string
}

// ColumnNames returns the table's column names, in order, each quoted
// ("trigger" is a keyword).
func (t Table) ColumnNames() []string {
	n := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		n[i] = `"` + c.Name + `"`
	}
	return n
}

func cols(kind Kind, names ...string) []Column {
	c := make([]Column, len(names))
	for i, n := range names {
		c[i] = Column{n, kind}
	}
	return c
}

func join(parts ...[]Column) []Column {
	var c []Column
	for _, p := range parts {
		c = append(c, p...)
	}
	return c
}

// CopyTables is every table `faas db copy` copies, parents first. Instances
// are not among them: they are processes of one host, not history.
var CopyTables = []Table{
	{Name: "functions", Columns: join(cols(KindText, "name", "provider", "owner"), cols(KindInt, "current_version"), cols(KindTime, "created_at", "updated_at"))},
	{Name: "versions", Columns: join(cols(KindText, "function"), cols(KindInt, "version"), cols(KindText, "sha256", "filename"),
		cols(KindBytes, "code"), cols(KindText, "config"), cols(KindTime, "created_at"), cols(KindBool, "tree"), cols(KindText, "deps"), cols(KindBytes, "build_log"))},
	{Name: "jobs", Columns: join(cols(KindText, "id", "function"), cols(KindInt, "version"), cols(KindText, "owner", "status", "provider", "instance"),
		cols(KindBool, "cold"), cols(KindInt, "init_ms"), cols(KindTime, "queued_at", "started_at", "ended_at"),
		cols(KindInt, "duration_us", "billed_ms", "memory_mb", "peak_memory_bytes", "exit_code"), cols(KindText, "error"),
		cols(KindBytes, "payload", "result", "logs"), cols(KindBool, "logs_truncated"), cols(KindInt, "runner_pid", "runner_start", "request_pico", "compute_pico",
			"retries", "attempts", "timeout_ms"), cols(KindText, "cause", "trigger", "callback_url", "callback_status"), cols(KindInt, "callback_attempts"),
		cols(KindText, "callback_error", "destination_job", "destination_error", "runner_host", "host"))},
	{Name: "config", Columns: join(cols(KindText, "key", "value"), cols(KindTime, "updated_at"))},
	{Name: "spend", Columns: join(cols(KindText, "month", "owner"), cols(KindInt, "pico"))},
	{Name: "usage_daily", Columns: join(cols(KindText, "day", "function", "owner"),
		cols(KindInt, "invocations", "errors", "duration_us", "billed_ms", "mb_ms", "request_pico", "compute_pico"))},
	{Name: "usage_samples", Columns: join(cols(KindTime, "time"), cols(KindText, "instance", "function"), cols(KindFloat, "cpu_pct"),
		cols(KindInt, "mem_used", "mem_total", "disk_used", "disk_total"), cols(KindFloat, "load"), cols(KindInt, "in_flight"))},
	{Name: "scale_events", Serial: "id", Columns: join(cols(KindInt, "id"), cols(KindTime, "time"), cols(KindText, "function", "instance", "kind", "reason", "outcome"))},
	{Name: "tokens", Columns: join(cols(KindText, "name", "hash"), cols(KindTime, "created_at"))},
	{Name: "secrets", Columns: join(cols(KindText, "owner", "name"), cols(KindBytes, "sealed"), cols(KindInt, "size"), cols(KindTime, "created_at", "updated_at"))},
	{Name: "schedule_runs", Columns: join(cols(KindText, "function"), cols(KindTime, "tick"), cols(KindText, "job_id", "error"), cols(KindTime, "claimed_at"))},
}

// Rows is a table's rows as an export reads them, one at a time, in the
// kinds of the table's columns (pgx.CopyFromSource has the same methods).
type Rows interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// Totals are what `faas db copy` compares between source and target: rows
// per table, and the money in them.
type Totals struct {
	Rows map[string]int64 `json:"rows"`
	// JobPico is the sum of every job's cost; UsagePico of the daily
	// roll-ups bills read; SpendPico of the monthly spend budgets read.
	JobPico   int64 `json:"job_pico"`
	UsagePico int64 `json:"usage_pico"`
	SpendPico int64 `json:"spend_pico"`
}

// TotalsQueries are the queries of Totals, in SQL both stores speak.
var TotalsQueries = [3]string{
	`SELECT COALESCE(SUM(request_pico + compute_pico), 0) FROM jobs`,
	`SELECT COALESCE(SUM(request_pico + compute_pico), 0) FROM usage_daily`,
	`SELECT COALESCE(SUM(pico), 0) FROM spend`,
}

// Normalize turns a value a driver scanned into the column kind's Go type.
func Normalize(c Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.Kind {
	case KindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case KindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int:
			return int64(x), nil
		}
	case KindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
	case KindBytes:
		switch x := v.(type) {
		case []byte:
			if x == nil {
				x = []byte{}
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
	case KindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
	case KindTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Truncate(time.Millisecond), nil
		case int64:
			return time.UnixMilli(x).UTC(), nil
		}
	}
	return nil, fmt.Errorf("column %s: unexpected %T", c.Name, v)
}
