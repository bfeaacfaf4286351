package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/internal/scripttest"
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
	home := filepath.Join(dir, "pghome")
	env := append(withoutServer(os.Environ()), "FAAS_HOME="+home, "NO_COLOR=1", "FAAS_DATABASE_URL="+url)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(faas, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("faas %s (PostgreSQL): %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return strings.TrimSpace(out.String()), nil
	}
	token, err := run("serve", "token", "create", "bench")
	if err != nil {
		return pgRun{}, err
	}
	srv := exec.Command(faas, "serve", "--addr", "127.0.0.1:0", "--quiet", "--max-inflight", "100000")
	srv.Env = env
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return pgRun{}, err
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
		scripttest.StopAgents(home)
	}()
	addr, err := waitServer(home)
	if err != nil {
		return pgRun{}, err
	}
	base := "http://" + addr
	env = append(env, "FAAS_SERVER="+base, "FAAS_TOKEN="+token)
	if _, err := run("deploy", fn, "--max-instances", "2", "--concurrency", strconv.Itoa(slots), "--memory", "128M"); err != nil {
		return pgRun{}, err
	}
	url = base + "/v1/functions/noop/invoke"
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
	if a.n > 0 && p.r.n > 0 {
		fmt.Printf("\n(d)/(a) throughput: %.2f×\n", p.r.rps()/a.rps())
	} else {
		fmt.Printf("\n(d)/(a) throughput: not measured (no successful call in one of them)\n")
	}
}
