// Command jobs measures what `faas jobs` costs as the records grow, and
// what a job adds to them. For each filter of `faas jobs` (the default
// listing, --status, --function, --trigger), the store's ListJobs with
// --limit's default of 20 on a database of 1,000,000 jobs against one of
// 100,000, run in turn, medians; each ratio must stay within 1.2 (an index
// read in the listing's order, not a scan). On SQLite, and on PostgreSQL
// (FAAS_TEST_DATABASE_URL's server, or a throw-away cluster) when there is
// one. Then the bytes a typical small invocation adds to the SQLite
// database, written as an invocation writes it (a running job with its
// payload, then its result, logs and cost, and the day's roll-up). Run it
// from the repository root:
//
//	go run ./bench/jobs [-big 1000000] [-small 100000] [-n 200]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

func main() {
	big := flag.Int("big", 1_000_000, "jobs in the big database")
	small := flag.Int("small", 100_000, "jobs in the small one")
	n := flag.Int("n", 200, "runs per measurement")
	flag.Parse()
	if err := run(*big, *small, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// lister is what is timed: a store's ListJobs.
type lister interface {
	ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error)
}

const fns = 5

// the synthetic month: fn-0 … fn-4, every 50th job failed, fn-4's jobs
// started by a schedule and the others' from the command line.
var from = time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local)

func spacing(jobs int) time.Duration { return 30 * 24 * time.Hour / time.Duration(jobs/fns) }

func trigger(fn int) string {
	if fn == fns-1 {
		return "schedule"
	}
	return "cli"
}

var filters = []struct {
	name string
	f    store.JobFilter
}{
	{"faas jobs", store.JobFilter{Limit: 20}},
	{"--status failed (2% of jobs)", store.JobFilter{Status: store.StatusFailed, Limit: 20}},
	{"--status completed", store.JobFilter{Status: store.StatusCompleted, Limit: 20}},
	{"--status lost (none)", store.JobFilter{Status: store.StatusLost, Limit: 20}},
	{"--function fn-2", store.JobFilter{Function: "fn-2", Limit: 20}},
	{"--trigger schedule", store.JobFilter{Trigger: "schedule", Limit: 20}},
	{"--function fn-2 --status failed", store.JobFilter{Function: "fn-2", Status: store.StatusFailed, Limit: 20}},
}

func run(big, small, n int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "faas-bench-jobs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	type pair struct {
		store      string
		small, big lister
	}
	var pairs []pair
	var sqliteHomes []string
	var opened []interface{ Close() error }
	defer func() {
		for _, c := range opened {
			c.Close()
		}
	}()
	for _, size := range []int{small, big} {
		home := filepath.Join(dir, fmt.Sprint(size))
		st, err := sqlite.Open(ctx, home)
		if err != nil {
			return err
		}
		opened = append(opened, st)
		t := time.Now()
		for i := 0; i < fns; i++ {
			if err := st.InsertSynthetic(ctx, store.SyntheticJobs{N: size / fns, Function: fmt.Sprintf("fn-%d", i),
				From: from.Add(time.Duration(i) * time.Second), Spacing: spacing(size), DurationUS: 120_000, BilledMS: 120,
				MemoryMB: 256, RequestPico: 200_000, ComputePico: 500_000, FailEvery: 50, Trigger: trigger(i)}); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "SQLite: filled %d jobs in %s\n", size, time.Since(t).Round(time.Millisecond))
		sqliteHomes = append(sqliteHomes, home)
	}
	pairs = append(pairs, pair{"SQLite", opened[0].(lister), opened[1].(lister)})

	if server, err := pgtest.Server(); err != nil {
		fmt.Fprintf(os.Stderr, "no PostgreSQL (%v): SQLite only\n", err)
	} else {
		defer pgtest.Stop()
		var pg []lister
		for _, size := range []int{small, big} {
			url, err := pgtest.CreateDatabase(ctx, server)
			if err != nil {
				return err
			}
			defer pgtest.DropDatabase(ctx, server, url) //nolint:errcheck // a throw-away database
			st, err := postgres.Open(ctx, url)
			if err != nil {
				return err
			}
			opened = append(opened, st)
			t := time.Now()
			if err := fillPostgres(ctx, url, size); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "PostgreSQL: filled %d jobs in %s\n", size, time.Since(t).Round(time.Millisecond))
			pg = append(pg, st)
		}
		pairs = append(pairs, pair{"PostgreSQL", pg[0], pg[1]})
	}

	fmt.Printf("faas jobs benchmark: the store's ListJobs (limit 20) on %d jobs against %d, in turn, medians of %d runs; %s\n\n",
		big, small, n, time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("| store | filter | %d jobs ms | %d jobs ms | ratio |\n|---|---|---:|---:|---:|\n", small, big)
	worst := 0.0
	for _, p := range pairs {
		for _, c := range filters {
			var ds, db []time.Duration
			for i := 0; i < n; i++ {
				for k, l := range []lister{p.small, p.big} {
					t := time.Now()
					jobs, err := l.ListJobs(ctx, c.f)
					d := time.Since(t)
					if err != nil {
						return err
					}
					if c.f.Status != store.StatusLost && len(jobs) != 20 {
						return fmt.Errorf("%s %s: %d jobs, want 20", p.store, c.name, len(jobs))
					}
					if k == 0 {
						ds = append(ds, d)
					} else {
						db = append(db, d)
					}
				}
			}
			r := benchutil.Ratio(db, ds)
			worst = max(worst, r)
			fmt.Printf("| %s | %s | %.3f | %.3f | %.2f |\n", p.store, c.name, ms(benchutil.Median(ds)), ms(benchutil.Median(db)), r)
		}
	}
	fmt.Println()
	if err := printPlans(sqliteHomes[1]); err != nil {
		return err
	}
	fmt.Printf("- every filter on %d jobs within 1.2× of %d: %s (worst %.2f)\n", big, small, benchutil.Verdict(worst <= 1.2), worst)
	perJob, err := bytesPerJob(ctx, filepath.Join(dir, "size"), 5000)
	if err != nil {
		return err
	}
	fmt.Printf("\nSQLite bytes per job, a typical small invocation (5,000 jobs, file size after a checkpoint): %.0f\n", perJob)
	fmt.Printf("- at most 1 KB per job: %s\n", benchutil.Verdict(perJob <= 1024))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fillPostgres inserts size jobs as the SQLite fill does.
func fillPostgres(ctx context.Context, url string, size int) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for i := 0; i < fns; i++ {
		fn := fmt.Sprintf("fn-%d", i)
		start := from.Add(time.Duration(i) * time.Second)
		_, err := conn.Exec(ctx, `INSERT INTO jobs(id, function, version, owner, status, provider, instance, queued_at, started_at, ended_at,
			duration_us, billed_ms, memory_mb, exit_code, request_pico, compute_pico, cause, trigger)
			SELECT 'syn:' || $1 || ':' || lpad(i::text, 10, '0'), $1, 1, '', CASE WHEN (i + 1) % 50 = 0 THEN 'failed' ELSE 'completed' END,
				'synthetic', '', $2::timestamptz + i * $3::bigint * interval '1 millisecond', $2::timestamptz + i * $3::bigint * interval '1 millisecond',
				$2::timestamptz + (i * $3::bigint + 120) * interval '1 millisecond', 120000, 120, 256, 0, 200000, 500000,
				CASE WHEN (i + 1) % 50 = 0 THEN 'function' ELSE '' END, $4
			FROM generate_series(0, $5::int - 1) i`, fn, start, spacing(size).Milliseconds(), trigger(i), size/fns)
		if err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, `ANALYZE jobs`)
	return err
}

// printPlans prints SQLite's plan of each filter's query.
func printPlans(home string) error {
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home)+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, c := range filters {
		var where []string
		var args []any
		for col, v := range map[string]string{"function": c.f.Function, "status": c.f.Status, "trigger": c.f.Trigger} {
			if v != "" {
				where = append(where, col+" = ?")
				args = append(args, v)
			}
		}
		q := "EXPLAIN QUERY PLAN SELECT id FROM jobs"
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		rows, err := db.Query(q+" ORDER BY queued_at DESC, id DESC LIMIT 20", args...)
		if err != nil {
			return err
		}
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			_ = rows.Scan(&id, &parent, &notused, &detail)
			lines = append(lines, detail)
		}
		rows.Close()
		fmt.Printf("SQLite plan, %s: %s\n", c.name, strings.Join(lines, "; "))
	}
	return nil
}

// bytesPerJob writes n jobs to a new SQLite home as a small invocation
// writes them and returns how much the database grew per job.
func bytesPerJob(ctx context.Context, home string, n int) (float64, error) {
	st, err := sqlite.Open(ctx, home)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	size := func() (int64, error) {
		db, err := sql.Open("sqlite3", "file:"+faashome.DB(home))
		if err != nil {
			return 0, err
		}
		defer db.Close()
		if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return 0, err
		}
		var pages, free, pageSize int64
		for q, p := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &pageSize} {
			if err := db.QueryRow(q).Scan(p); err != nil {
				return 0, err
			}
		}
		return (pages - free) * pageSize, nil
	}
	// A first job, so that the tables' first pages are not counted.
	write := func(i int) error {
		now := time.Now()
		exit := 0
		j := store.Job{ID: fmt.Sprintf("01m8%012d", i), Function: "hello", Version: 1, Status: store.StatusRunning, Provider: "local",
			Instance: "local-hello-1", QueuedAt: now, StartedAt: now, MemoryMB: 256, Payload: []byte(`{"name":"Ada"}`),
			RunnerPID: 4242, RunnerStart: 123456, Attempts: 1, Trigger: "cli"}
		if err := st.StartJob(ctx, j); err != nil {
			return err
		}
		j.Status, j.EndedAt, j.Duration, j.BilledMS, j.ExitCode = store.StatusCompleted, now.Add(3*time.Millisecond), 2500*time.Microsecond, 3, &exit
		j.Result, j.Logs, j.PeakMemoryBytes, j.RequestPico, j.ComputePico = []byte(`"Hello, Ada!"`), []byte("greeting Ada\n"), 9_000_000, 200_000, 12_500
		return st.FinishJob(ctx, j, false)
	}
	if err := write(0); err != nil {
		return 0, err
	}
	before, err := size()
	if err != nil {
		return 0, err
	}
	for i := 1; i <= n; i++ {
		if err := write(i); err != nil {
			return 0, err
		}
	}
	after, err := size()
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}
