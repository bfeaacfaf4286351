// Command serve measures `faas serve` under load, in one run on one
// machine, against baselines measured side by side:
//
//	(a) faas serve: synchronous invokes of a warm no-op Python handler,
//	    deployed with the default scaling, over HTTP with a token, every job
//	    recorded in SQLite, at 1, 16 and 64 requests in flight, each in
//	    rounds interleaved with (L);
//	(L) the architecture's limit: a minimal Go HTTP server that hands each
//	    request over a pipe to one persistent Python worker calling the
//	    same handler (no database, no token, no agent);
//	(w) the WAL's peak size through a long run at 64 in flight, and the
//	    database's growth per job;
//	(s) the default scaling against pinned instances × slots;
//	(b) the original design: a minimal HTTP handler that runs a fresh
//	    python3 per request with the payload on stdin;
//	(c) HTTP functions: one handler through /v1/functions/NAME/invoke and
//	    at /fn/NAME, interleaved, and the ratio of their throughputs;
//	(d) (a) once more with the records in PostgreSQL (a throw-away
//	    cluster, where PostgreSQL is installed; else it says why not).
//
// For (a) and (L) it counts the CPU time of every process of each side
// (faas serve, its agents and their workers; the limit server and its
// worker) and gives it per call. A load generator on loopback keeps the
// requests in flight over keep-alive connections: wrk when it is
// installed (apt-get install wrk), else a Go one (-loader go|wrk picks).
// Every side keeps its state in a FAAS_HOME of its own. Run it from the
// repository root:
//
//	go run ./bench/serve [-d 10s] [-conc 1,16,64] [-wal-d 60s] [-skip b,c,d]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
)

const noop = `def handler(event, context):
    return event
`

func main() {
	if len(os.Args) == 5 && os.Args[1] == "-limit-server" {
		if err := serveLimit(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, "limit server:", err)
			os.Exit(1)
		}
		return
	}
	var o opts
	concs := flag.String("conc", "1,16,64", "requests in flight for (a) against (L), comma-separated")
	flag.DurationVar(&o.dur, "d", 10*time.Second, "how long to load each side of (a)/(L) at each concurrency, in -rounds rounds")
	flag.IntVar(&o.rounds, "rounds", 4, "interleaved rounds of (L) and (a)")
	flag.DurationVar(&o.walDur, "wal-d", 60*time.Second, "how long (w) loads the server at 64 in flight")
	flag.DurationVar(&o.scaleDur, "scale-d", 8*time.Second, "how long (s) loads each scaling setting at each concurrency, in rounds")
	flag.IntVar(&o.conc, "c", 16, "requests in flight for (b), (c) and (d)")
	flag.DurationVar(&o.baseDur, "bd", 5*time.Second, "how long to load the original design (b)")
	flag.IntVar(&o.slots, "concurrency", 2, "the handler's concurrency per instance in (c) and (d)")
	skip := flag.String("skip", "", "parts to leave out, comma-separated: a,w,s,b,c,d")
	loader := flag.String("loader", "auto", "load generator: auto (wrk if installed), wrk or go")
	flag.StringVar(&o.faas, "faas", "", "a faas binary to measure (default: build this tree's)")
	flag.Parse()
	switch *loader {
	case "auto":
		if _, err := exec.LookPath("wrk"); err == nil {
			measure = wrkLoad
		}
	case "wrk":
		measure = wrkLoad
	case "go":
	default:
		fmt.Fprintln(os.Stderr, "bench: -loader auto|wrk|go")
		os.Exit(2)
	}
	for _, c := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bench: -conc takes whole numbers from 1, comma-separated")
			os.Exit(2)
		}
		o.concs = append(o.concs, n)
	}
	o.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		o.skip[strings.TrimSpace(s)] = true
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type opts struct {
	concs                          []int
	dur, walDur, scaleDur, baseDur time.Duration
	rounds, conc, slots            int
	faas                           string
	skip                           map[string]bool
}

func run(o opts) error {
	dir, faas, err := benchutil.BuildFaas("faas-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.faas != "" {
		if faas, err = filepath.Abs(o.faas); err != nil {
			return err
		}
	}
	fn := filepath.Join(dir, "noop.py")
	if err := os.WriteFile(fn, []byte(noop), 0o644); err != nil {
		return err
	}
	body := []byte(`{"n": 1}`)
	fmt.Printf("`faas serve` under load: loopback, a no-op Python handler, %d CPUs, %s\n", runtimeCPUs(), time.Now().UTC().Format(time.RFC3339))
	if !o.skip["a"] {
		if err := limitPart(dir, faas, fn, body, o); err != nil {
			return err
		}
	}
	if !o.skip["w"] && o.walDur > 0 {
		if err := walPart(dir, faas, fn, body, o.walDur); err != nil {
			return err
		}
	}
	if !o.skip["s"] && o.scaleDur > 0 {
		if err := scalingPart(dir, faas, fn, body, o); err != nil {
			return err
		}
	}
	if !o.skip["b"] {
		if err := originalPart(dir, fn, body, o); err != nil {
			return err
		}
	}
	if o.skip["c"] && o.skip["d"] {
		return nil
	}
	s, err := startServe(dir, faas, "home-c")
	if err != nil {
		return err
	}
	defer s.stop()
	if !o.skip["c"] {
		runs, err := measureHTTP(dir, s, faas, o.conc, o.dur, o.slots)
		if err != nil {
			return err
		}
		runs.print()
	}
	if !o.skip["d"] {
		if _, err := s.run(faas, true, "deploy", fn, "--max-instances", "2", "--concurrency", strconv.Itoa(o.slots), "--memory", "128M"); err != nil {
			return err
		}
		url := s.invokeURL("noop")
		if w := load(url, s.token, 2*o.slots+2, 2*time.Second, body); w.n == 0 {
			return fmt.Errorf("warm-up: no invocation succeeded: %s", w.firstErr)
		}
		fmt.Fprintf(os.Stderr, "(d) SQLite side: faas serve, %d in flight for %s…\n", o.conc, o.dur)
		a := measure(url, s.token, o.conc, o.dur, body)
		pg, err := measurePostgres(dir, faas, fn, o.conc, o.dur, o.slots)
		if err != nil {
			return err
		}
		pg.print(a, o.conc)
	}
	return nil
}

// side is one side's rounds at one concurrency: the calls, the CPU time
// its processes spent, faas' overhead histogram.
type side struct {
	runs []result
	cpu  time.Duration
	over hist
}

func (s side) all() result { return merge(s.runs) }

// cpuPerCall is the side's CPU time per successful call, in ms.
func (s side) cpuPerCall() float64 {
	n := s.all().n
	if n == 0 {
		return 0
	}
	return float64(s.cpu.Microseconds()) / 1000 / float64(n)
}

// phase loads url from c clients for d and counts the CPU time of set.
func phase(set cpuSet, url, token string, c int, d time.Duration, body []byte) (result, time.Duration) {
	before := set.usage()
	r := measure(url, token, c, d, body)
	return r, spent(before, set.usage())
}

// limitPart is (a) against (L), goal 1 of the performance issue.
func limitPart(dir, faas, fn string, body []byte, o opts) error {
	lim, err := startLimit(dir, fn)
	if err != nil {
		return err
	}
	defer lim.stop()
	s, url, err := serveDefault(dir, faas, "home-a", fn)
	if err != nil {
		return err
	}
	defer s.stop()
	limCPU, faasCPU := oneProcess(lim.cmd.Process.Pid), s.cpu()
	type row struct {
		c         int
		lim, faas side
	}
	var rows []row
	for _, c := range o.concs {
		fmt.Fprintf(os.Stderr, "(a)/(L) %d in flight: warming up…\n", c)
		if w := load(url, s.token, c, time.Second, body); w.n == 0 {
			return fmt.Errorf("warm-up: no invocation succeeded: %s", w.firstErr)
		}
		_ = load(lim.url, "", c, time.Second/2, body)
		each := o.dur / time.Duration(o.rounds)
		r := row{c: c}
		for i := range o.rounds {
			fmt.Fprintf(os.Stderr, "(L) then (a), %d in flight, %s each (round %d of %d)…\n", c, each, i+1, o.rounds)
			lr, lc := phase(limCPU, lim.url, "", c, each, body)
			r.lim.runs, r.lim.cpu = append(r.lim.runs, lr), r.lim.cpu+lc
			h0, err := scrape(s.base, s.token)
			if err != nil {
				return err
			}
			fr, fc := phase(faasCPU, url, s.token, c, each, body)
			h1, err := scrape(s.base, s.token)
			if err != nil {
				return err
			}
			r.faas.runs, r.faas.cpu, r.faas.over = append(r.faas.runs, fr), r.faas.cpu+fc, r.faas.over.add(diff(h1, h0))
		}
		rows = append(rows, r)
	}
	inst, _ := s.run(faas, false, "top", "--once", "-o", "json")
	fmt.Printf("\n(a) faas serve (the default scaling; %d instances at the end) against (L) the architecture's limit, %d interleaved rounds of %s each; load generator: %s\n\n",
		strings.Count(inst, `"provider":`), o.rounds, o.dur/time.Duration(o.rounds), rows[0].faas.all().loader)
	fmt.Println("| in flight | (L) calls/s | (a) calls/s | (a)/(L) | (L) p50 / p99 ms | (a) p50 / p99 ms | (L) CPU ms/call | (a) CPU ms/call | CPU (a)/(L) | errors (L)/(a) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		l, f := r.lim.all(), r.faas.all()
		fmt.Printf("| %d | %.0f | %.0f | %s | %.2f / %.2f | %.2f / %.2f | %.3f | %.3f | %s | %d / %d |\n", r.c, l.rps(), f.rps(),
			benchutil.Times(f.rps(), l.rps()), ms(l.q(0.5)), ms(l.q(0.99)), ms(f.q(0.5)), ms(f.q(0.99)),
			r.lim.cpuPerCall(), r.faas.cpuPerCall(), benchutil.Times(r.faas.cpuPerCall(), r.lim.cpuPerCall()), l.errors, f.errors)
	}
	fmt.Println("\nfaas' own time per call (faas_platform_overhead_seconds: the request's time less the function's):")
	for _, r := range rows {
		fmt.Printf("  %d in flight: %d calls, p50 %.3f ms, p99 %.3f ms\n", r.c, r.faas.over.count(), r.faas.over.q(0.5), r.faas.over.q(0.99))
	}
	fmt.Println()
	for _, r := range rows {
		l, f := r.lim.all(), r.faas.all()
		tp, tok := benchutil.Div(f.rps(), l.rps())
		cp, cok := benchutil.Div(r.faas.cpuPerCall(), r.lim.cpuPerCall())
		fmt.Printf("- %d in flight: (a)/(L) ≥ 0.50: %s: %s; CPU per call ≤ 2× (L)'s: %s: %s\n", r.c,
			benchutil.Times(f.rps(), l.rps()), verdict(tok, tp >= 0.5), benchutil.Times(r.faas.cpuPerCall(), r.lim.cpuPerCall()), verdict(cok, cp <= 2))
		if r.c == 1 {
			pr, ok := benchutil.Div(float64(f.q(0.99)), float64(f.q(0.5)))
			fmt.Printf("- 1 in flight: (a) p99 ≤ 4 × p50: %s: %s\n", benchutil.Times(float64(f.q(0.99)), float64(f.q(0.5))), verdict(ok, pr <= 4))
		}
		if f.firstErr != "" || l.firstErr != "" {
			fmt.Printf("  first errors: (L) %q (a) %q\n", l.firstErr, f.firstErr)
		}
	}
	return nil
}

// verdict words a goal: met, not met, or not measured.
func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "NOT MEASURED"
	case ok:
		return "MET"
	}
	return "NOT MET"
}

// originalPart is (b): the original design behind a minimal HTTP handler.
func originalPart(dir, fn string, body []byte, o opts) error {
	orig := filepath.Join(dir, "original.py")
	if err := os.WriteFile(orig, []byte(benchutil.Original), 0o644); err != nil {
		return err
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return err
	}
	original := func(python string) (result, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return result{}, err
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			payload, _ := io.ReadAll(r.Body)
			cmd := exec.Command(python, orig, fn)
			cmd.Stdin = bytes.NewReader(payload)
			out, err := cmd.Output()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = w.Write(out)
		})}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Shutdown(context.Background())
		fmt.Fprintf(os.Stderr, "(b) original design (%s per request), %d in flight for %s…\n", python, o.conc, o.baseDur)
		return measure("http://"+ln.Addr().String()+"/", "", o.conc, o.baseDur, body), nil
	}
	// (b) python3 as found on PATH, as the original design ran it; (b')
	// the distribution's interpreter when that is another one.
	rows := map[string]result{}
	names := []string{"(b) python3 as found on PATH"}
	if rows[names[0]], err = original(python); err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks("/usr/bin/python3"); err == nil {
		if mine, _ := filepath.EvalSymlinks(python); mine != real {
			names = append(names, "(b') /usr/bin/python3")
			if rows[names[1]], err = original("/usr/bin/python3"); err != nil {
				return err
			}
		}
	}
	fmt.Printf("\n(b) the original design: a fresh interpreter per request, %d in flight\n\n", o.conc)
	fmt.Println("| case | invocations/s | p50 ms | p99 ms | errors |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, n := range names {
		r := rows[n]
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %d |\n", n, r.rps(), ms(r.q(0.5)), ms(r.q(0.99)), r.errors)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func runtimeCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
