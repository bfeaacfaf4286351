package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/pgtest"
)

// pgRun is (d): case (a) once more, the same function and load, with the
// records in PostgreSQL (a throw-away cluster of internal/pgtest, or the
// server FAAS_TEST_DATABASE_URL names), right after (a) on SQLite.
type pgRun struct {
	skipped string
	r       result
}

func measurePostgres(dir, faas, fn string, conc int, dur time.Duration, slots int) (pgRun, error) {
	server, skip := pgtest.Server()
	if skip != nil {
		return pgRun{skipped: skip.Error()}, nil
	}
	defer pgtest.Stop()
	ctx := context.Background()
	url, err := pgtest.CreateDatabase(ctx, server)
	if err != nil {
		return pgRun{}, err
	}
	defer pgtest.DropDatabase(ctx, server, url) //nolint:errcheck // a throw-away database
	s, err := startServe(dir, faas, "pghome", "FAAS_DATABASE_URL="+url)
	if err != nil {
		return pgRun{}, err
	}
	defer s.stop()
	if _, err := s.run(faas, true, "deploy", fn, "--max-instances", "2", "--concurrency", strconv.Itoa(slots), "--memory", "128M"); err != nil {
		return pgRun{}, fmt.Errorf("on PostgreSQL: %w", err)
	}
	url, token := s.invokeURL("noop"), s.token
	body := []byte(`{"n": 1}`)
	if w := load(url, token, 2*slots+2, 2*time.Second, body); w.n == 0 {
		return pgRun{}, fmt.Errorf("warm-up on PostgreSQL: no invocation succeeded: %s", w.firstErr)
	}
	fmt.Fprintf(os.Stderr, "(d) faas serve on PostgreSQL, %d in flight for %s…\n", conc, dur)
	return pgRun{r: measure(url, token, conc, dur, body)}, nil
}

func (p pgRun) print(a result, conc int) {
	if p.skipped != "" {
		fmt.Printf("\n(d) PostgreSQL: not measured: %s\n", p.skipped)
		return
	}
	fmt.Printf("\n(d) the same as (a), %d in flight, with the records in PostgreSQL:\n\n", conc)
	fmt.Println("| store | invocations/s | p50 ms | p99 ms | errors |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| (a) SQLite | %.0f | %.2f | %.2f | %d |\n", a.rps(), ms(a.q(0.5)), ms(a.q(0.99)), a.errors)
	fmt.Printf("| (d) PostgreSQL | %.0f | %.2f | %.2f | %d |\n", p.r.rps(), ms(p.r.q(0.5)), ms(p.r.q(0.99)), p.r.errors)
	fmt.Printf("\n(d)/(a) throughput: %s\n", benchutil.Times(p.r.rps(), a.rps()))
}
