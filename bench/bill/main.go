// Command bill measures `faas bill` on a big month: a database with
// 1,000,000 jobs over November 2026, across 5 functions; the whole-process
// median of `faas bill --month 2026-11` (table and -o json) against the
// baseline a bill without the roll-up would pay: one aggregate over the
// month's job rows. Run it from the repository root:
//
//	go run ./bench/bill [-jobs 1000000] [-n 30]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

func main() {
	jobs := flag.Int("jobs", 1_000_000, "jobs in the month")
	n := flag.Int("n", 30, "runs per measurement")
	flag.Parse()
	if err := run(*jobs, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(jobs, n int) error {
	dir, faas, err := benchutil.BuildFaas("faas-bench-bill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, home)
	if err != nil {
		return err
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local)
	month := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local).Sub(from)
	sheet := billing.Default()
	charge := sheet.Charge(billing.Usage{Duration: 120 * time.Millisecond, MemoryMB: 256})
	const fns = 5
	t0 := time.Now()
	for i := 0; i < fns; i++ {
		if err := st.InsertSynthetic(ctx, store.SyntheticJobs{
			N: jobs / fns, Function: fmt.Sprintf("fn-%d", i), From: from.Add(time.Duration(i) * time.Second),
			Spacing: month / time.Duration(jobs/fns), DurationUS: 120_000, BilledMS: charge.BilledMS, MemoryMB: 256,
			RequestPico: int64(charge.Request), ComputePico: int64(charge.Compute), FailEvery: 50,
		}); err != nil {
			return err
		}
	}
	st.Close()
	fmt.Fprintf(os.Stderr, "filled %d jobs in %s\n", jobs, time.Since(t0).Round(time.Millisecond))

	env := benchutil.Env(home)
	timeBill := func(args ...string) (time.Duration, string, error) { return timeBillIn(faas, env, n, args...) }
	table, tableOut, err := timeBill()
	if err != nil {
		return err
	}
	js, jsonOut, err := timeBill("-o", "json")
	if err != nil {
		return err
	}
	if !strings.Contains(tableOut, "fn-4") || !strings.Contains(jsonOut, `"invocations": 1000000`) && jobs == 1_000_000 {
		return fmt.Errorf("unexpected bill:\n%s", jsonOut)
	}
	pg, err := onPostgres(faas, env, n, jsonOut)
	if err != nil {
		return err
	}

	// The baseline, and the plans, from the same database.
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home)+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	naive := `SELECT function, COUNT(*), SUM(status != 'completed'), SUM(duration_us), SUM(billed_ms),
		SUM(memory_mb * billed_ms), SUM(request_pico), SUM(compute_pico) FROM jobs
		WHERE queued_at >= ? AND queued_at < ? AND status IN ('completed', 'failed', 'timeout') GROUP BY function`
	var ds []time.Duration
	for i := 0; i < min(n, 10); i++ {
		t := time.Now()
		rows, err := db.Query(naive, from.UnixMilli(), from.Add(month).UnixMilli())
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		ds = append(ds, time.Since(t))
	}
	baseline := benchutil.Median(ds)
	plan := func(q string, args ...any) string {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			return err.Error()
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			_ = rows.Scan(&id, &parent, &notused, &detail)
			lines = append(lines, detail)
		}
		return strings.Join(lines, "; ")
	}
	billQuery := `SELECT function, SUM(invocations), SUM(errors), SUM(duration_us), SUM(billed_ms), SUM(mb_ms),
		SUM(request_pico), SUM(compute_pico) FROM usage_daily WHERE day >= ? AND day < ? GROUP BY function ORDER BY function`

	fmt.Printf("faas bill benchmark: %d jobs in 2026-11 across %d functions, medians of %d whole-process runs; %s\n\n", jobs, fns, n, time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| case | median ms |")
	fmt.Println("|---|---:|")
	fmt.Printf("| faas bill --month 2026-11 (table, piped) | %.1f |\n", float64(table.Microseconds())/1000)
	fmt.Printf("| faas bill --month 2026-11 -o json | %.1f |\n", float64(js.Microseconds())/1000)
	fmt.Printf("| baseline: one aggregate over the month's job rows, in process | %.1f |\n", float64(baseline.Microseconds())/1000)
	if pg != nil {
		fmt.Printf("| faas db copy --to postgres (whole history, one process) | %.1f |\n", float64(pg.copy.Microseconds())/1000)
		fmt.Printf("| PostgreSQL: faas bill --month 2026-11 (table, piped) | %.1f |\n", float64(pg.table.Microseconds())/1000)
		fmt.Printf("| PostgreSQL: faas bill --month 2026-11 -o json | %.1f |\n", float64(pg.json.Microseconds())/1000)
	}
	fmt.Printf("\nwhole `faas bill` / baseline query alone: %.3f\n", float64(table)/float64(baseline))
	fmt.Printf("plan (table and json share it): %s\n", plan(billQuery, "2026-11-01", "2026-12-01"))
	fmt.Printf("baseline plan: %s\n", plan(naive, from.UnixMilli(), from.Add(month).UnixMilli()))
	verdict := "MET"
	if table > 300*time.Millisecond || js > 300*time.Millisecond || pg != nil && (pg.table > 300*time.Millisecond || pg.json > 300*time.Millisecond) {
		verdict = "NOT MET"
	}
	fmt.Printf("- whole-process median ≤ 300 ms: %s\n", verdict)
	return nil
}

// timeBillIn runs `faas bill --month 2026-11` n times with env and returns
// the median and the last output.
func timeBillIn(faas string, env []string, n int, args ...string) (time.Duration, string, error) {
	var ds []time.Duration
	var out []byte
	for i := 0; i < n; i++ {
		cmd := exec.Command(faas, append([]string{"bill", "--month", "2026-11"}, args...)...)
		cmd.Env = env
		t := time.Now()
		o, err := cmd.Output()
		ds = append(ds, time.Since(t))
		if err != nil {
			return 0, "", fmt.Errorf("faas bill: %w", err)
		}
		out = o
	}
	return benchutil.Median(ds), string(out), nil
}

// pgTimes are the PostgreSQL figures.
type pgTimes struct{ copy, table, json time.Duration }

// onPostgres copies the SQLite home into a new PostgreSQL database with
// `faas db copy` (on FAAS_TEST_DATABASE_URL's server, or a throw-away
// cluster) and times the bill there, which must equal SQLite's. Without
// PostgreSQL it says so and returns nil.
func onPostgres(faas string, env []string, n int, sqliteJSON string) (*pgTimes, error) {
	ctx := context.Background()
	server, err := pgtest.Server()
	if err != nil {
		fmt.Fprintf(os.Stderr, "no PostgreSQL (%v): SQLite only\n", err)
		return nil, nil
	}
	defer pgtest.Stop()
	url, err := pgtest.CreateDatabase(ctx, server)
	if err != nil {
		return nil, err
	}
	defer pgtest.DropDatabase(ctx, server, url) //nolint:errcheck // a throw-away database
	var r pgTimes
	cmd := exec.Command(faas, "db", "copy", "--to", url)
	cmd.Env = env
	t := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("faas db copy: %w\n%s", err, out)
	}
	r.copy = time.Since(t)
	fmt.Fprintf(os.Stderr, "copied to PostgreSQL in %s\n", r.copy.Round(time.Millisecond))
	penv := append(env[:len(env):len(env)], faashome.DatabaseEnv+"="+url)
	if r.table, _, err = timeBillIn(faas, penv, n); err != nil {
		return nil, err
	}
	var out string
	if r.json, out, err = timeBillIn(faas, penv, n, "-o", "json"); err != nil {
		return nil, err
	}
	if out != sqliteJSON {
		return nil, fmt.Errorf("the bill on PostgreSQL differs from SQLite's:\n%s\n%s", out, sqliteJSON)
	}
	return &r, nil
}
