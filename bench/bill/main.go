// Command bill measures `faas bill` on a big month: a database with
// 1,000,000 jobs over November 2026, across 5 functions; the whole-process
// median of `faas bill --month 2026-11` (table and -o json) against the
// baseline a bill without the roll-up would pay: one aggregate over the
// month's job rows. With PostgreSQL (FAAS_TEST_DATABASE_URL's server, or a
// throw-away cluster), the same month is copied there with `faas db copy`
// and billed too, each round of runs alternating the stores, and the
// ratio printed: of whole processes, and of the store's Bill alone on an
// open store. Point FAAS_TEST_DATABASE_URL at a pooler (pgbouncer) to time
// processes that do not each start a server backend. Run it from the
// repository root:
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
	"reflect"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
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
	pgURL, copied, stopPG, err := onPostgres(faas, env)
	if err != nil {
		return err
	}
	defer stopPG()
	var pgEnv []string
	if pgURL != "" {
		pgEnv = append(env[:len(env):len(env)], faashome.DatabaseEnv+"="+pgURL)
	}
	// Each round runs every case once, SQLite's and PostgreSQL's in turn,
	// so that the load of the machine weighs on both alike.
	cases := []billCase{{name: "faas bill --month 2026-11 (table, piped)", env: env},
		{name: "faas bill --month 2026-11 -o json", env: env, args: []string{"-o", "json"}}}
	if pgEnv != nil {
		cases = append(cases, billCase{name: "PostgreSQL: faas bill --month 2026-11 (table, piped)", env: pgEnv},
			billCase{name: "PostgreSQL: faas bill --month 2026-11 -o json", env: pgEnv, args: []string{"-o", "json"}})
	}
	if err := timeBills(faas, n, cases); err != nil {
		return err
	}
	tableOut, jsonOut := cases[0].out, cases[1].out
	if !strings.Contains(tableOut, "fn-4") || !strings.Contains(jsonOut, `"invocations": 1000000`) && jobs == 1_000_000 {
		return fmt.Errorf("unexpected bill:\n%s", jsonOut)
	}
	if pgEnv != nil && (cases[3].out != jsonOut || cases[2].out != tableOut) {
		return fmt.Errorf("the bill on PostgreSQL differs from SQLite's:\n%s\n%s", cases[3].out, jsonOut)
	}
	table, js := cases[0].median, cases[1].median
	inSQLite, inPG, err := timeStoreBill(ctx, home, pgURL, store.BillFilter{From: from, To: from.Add(month)}, n*10)
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
	if pgEnv != nil {
		fmt.Printf("| faas db copy --to postgres (whole history, one process) | %.1f |\n", float64(copied.Microseconds())/1000)
	}
	for _, c := range cases[2:] {
		fmt.Printf("| %s | %.1f |\n", c.name, float64(c.median.Microseconds())/1000)
	}
	fmt.Printf("| the store's Bill alone, in process on an open store (SQLite) | %.3f |\n", float64(inSQLite.Microseconds())/1000)
	if pgEnv != nil {
		fmt.Printf("| the store's Bill alone, in process on an open store (PostgreSQL) | %.3f |\n", float64(inPG.Microseconds())/1000)
	}
	fmt.Printf("\nwhole `faas bill` / baseline query alone: %.3f\n", float64(table)/float64(baseline))
	fmt.Printf("plan (table and json share it): %s\n", plan(billQuery, "2026-11-01", "2026-12-01"))
	fmt.Printf("baseline plan: %s\n", plan(naive, from.UnixMilli(), from.Add(month).UnixMilli()))
	verdict := "MET"
	for _, c := range cases {
		if c.median > 300*time.Millisecond {
			verdict = "NOT MET"
		}
	}
	fmt.Printf("- whole-process median ≤ 300 ms: %s\n", verdict)
	if pgEnv != nil {
		ratio := max(float64(cases[2].median)/float64(table), float64(cases[3].median)/float64(js))
		fmt.Printf("PostgreSQL / SQLite, whole process: table %.2f, json %.2f; the store's Bill alone: %.2f\n",
			float64(cases[2].median)/float64(table), float64(cases[3].median)/float64(js), float64(inPG)/float64(inSQLite))
		fmt.Printf("- PostgreSQL's whole `faas bill` ≤ 1.1× SQLite's: %s\n", benchutil.Verdict(ratio <= 1.1))
		fmt.Printf("- PostgreSQL's Bill query ≤ 1.1× SQLite's: %s\n", benchutil.Verdict(float64(inPG) <= 1.1*float64(inSQLite)))
	}
	return nil
}

// timeStoreBill times the store's Bill of f, n times on each store in
// turn (PostgreSQL's only when url is set), on stores opened once: the
// query without the process and the connection. Both must read the same.
func timeStoreBill(ctx context.Context, home, url string, f store.BillFilter, n int) (sqliteMedian, pgMedian time.Duration, err error) {
	lite, err := sqlite.Open(ctx, home)
	if err != nil {
		return 0, 0, err
	}
	defer lite.Close()
	var pg *postgres.Store
	if url != "" {
		if pg, err = postgres.Open(ctx, url); err != nil {
			return 0, 0, err
		}
		defer pg.Close()
	}
	var ds, dp []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		a, err := lite.Bill(ctx, f)
		ds = append(ds, time.Since(t))
		if err != nil || pg == nil {
			if err != nil {
				return 0, 0, err
			}
			continue
		}
		t = time.Now()
		b, err := pg.Bill(ctx, f)
		dp = append(dp, time.Since(t))
		if err != nil {
			return 0, 0, err
		}
		if !reflect.DeepEqual(a, b) {
			return 0, 0, fmt.Errorf("the stores' bills differ:\n%+v\n%+v", a, b)
		}
	}
	if pg == nil {
		return benchutil.Median(ds), 0, nil
	}
	return benchutil.Median(ds), benchutil.Median(dp), nil
}

// billCase is one way to run `faas bill --month 2026-11`, and what it gave.
type billCase struct {
	name   string
	env    []string
	args   []string
	median time.Duration
	out    string
}

// timeBills runs every case n times, a round of all cases at a time, and
// sets each one's median and last output.
func timeBills(faas string, n int, cases []billCase) error {
	ds := make([][]time.Duration, len(cases))
	for i := 0; i < n; i++ {
		for k := range cases {
			c := &cases[k]
			cmd := exec.Command(faas, append([]string{"bill", "--month", "2026-11"}, c.args...)...)
			cmd.Env = c.env
			t := time.Now()
			o, err := cmd.Output()
			ds[k] = append(ds[k], time.Since(t))
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			c.out = string(o)
		}
	}
	for k := range cases {
		cases[k].median = benchutil.Median(ds[k])
	}
	return nil
}

// onPostgres copies the SQLite home into a new PostgreSQL database with
// `faas db copy` (on FAAS_TEST_DATABASE_URL's server, or a throw-away
// cluster), timed, and returns its URL and how to drop it. Without
// PostgreSQL it says so and returns "".
func onPostgres(faas string, env []string) (url string, copied time.Duration, stop func(), err error) {
	ctx := context.Background()
	server, err := pgtest.Server()
	if err != nil {
		fmt.Fprintf(os.Stderr, "no PostgreSQL (%v): SQLite only\n", err)
		return "", 0, func() {}, nil
	}
	url, err = pgtest.CreateDatabase(ctx, server)
	if err != nil {
		pgtest.Stop()
		return "", 0, nil, err
	}
	stop = func() {
		_ = pgtest.DropDatabase(ctx, server, url)
		pgtest.Stop()
	}
	cmd := exec.Command(faas, "db", "copy", "--to", url)
	cmd.Env = env
	t := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("faas db copy: %w\n%s", err, out)
	}
	copied = time.Since(t)
	fmt.Fprintf(os.Stderr, "copied to PostgreSQL with faas db copy in %s\n", copied.Round(time.Millisecond))
	return url, copied, stop, nil
}
