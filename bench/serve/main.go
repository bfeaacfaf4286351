// Command serve measures `faas serve` under load, in one run on one
// machine, against the original design's model:
//
//	(a) faas serve: synchronous invokes of a warm no-op Python handler on
//	    2 instances, over HTTP with a token, every job recorded in SQLite;
//	(b) the original design: a minimal HTTP handler that runs a fresh
//	    python3 per request with the payload on stdin;
//	(c) HTTP functions: one handler through /v1/functions/NAME/invoke and
//	    at /fn/NAME, interleaved, and the ratio of their throughputs.
//
// A load generator on loopback keeps -c requests in flight for -d each,
// over keep-alive connections, and reports invocations/s and p50/p99
// latency: wrk when it is installed (apt-get install wrk), else a Go one
// (-loader go|wrk picks). faas' own overhead per call comes from its
// /metrics. Run it from the repository root:
//
// (d) runs (a) once more with the records in PostgreSQL (a throw-away
// cluster, where PostgreSQL is installed; else it says why not).
//
//	go run ./bench/serve [-c 16] [-d 10s] [-loader wrk]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/faashome"
)

const noop = `def handler(event, context):
    return event
`

func main() {
	conc := flag.Int("c", 16, "requests in flight")
	dur := flag.Duration("d", 10*time.Second, "how long to load each case")
	baseDur := flag.Duration("bd", 5*time.Second, "how long to load the original design")
	slots := flag.Int("concurrency", 2, "the handler's concurrency per instance")
	loader := flag.String("loader", "auto", "load generator: auto (wrk if installed), wrk or go")
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
	if err := run(*conc, *dur, *baseDur, *slots); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	n        int64
	errors   int64
	elapsed  time.Duration
	lat      []time.Duration // sorted; or, from wrk, perc
	perc     map[float64]time.Duration
	firstErr string
	loader   string
}

// measure is the load generator of the measured phases.
var measure = load

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) q(p float64) time.Duration {
	if r.perc != nil {
		return r.perc[p]
	}
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// load keeps c requests in flight for d and records each latency.
func load(url, token string, c int, d time.Duration, body []byte) result {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var n, errs atomic.Int64
	var mu sync.Mutex
	var firstErr string
	lats := make([][]time.Duration, c)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || (resp.Header.Get("X-Faas-Status") != "" && resp.Header.Get("X-Faas-Status") != "completed") {
						err = fmt.Errorf("%s %s", resp.Status, resp.Header.Get("X-Faas-Error"))
					}
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				lats[i] = append(lats[i], time.Since(t0))
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	r := result{n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), firstErr: firstErr, loader: "go"}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r
}

func run(conc int, dur, baseDur time.Duration, slots int) error {
	dir, faas, err := benchutil.BuildFaas("faas-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "FAAS_HOME="+home, "NO_COLOR=1")
	env = withoutServer(env)
	fn := filepath.Join(dir, "noop.py")
	if err := os.WriteFile(fn, []byte(noop), 0o644); err != nil {
		return err
	}
	faasCmd := func(args ...string) (string, error) {
		cmd := exec.Command(faas, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("faas %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return strings.TrimSpace(out.String()), nil
	}
	token, err := faasCmd("serve", "token", "create", "bench")
	if err != nil {
		return err
	}
	srv := exec.Command(faas, "serve", "--addr", "127.0.0.1:0", "--quiet", "--max-inflight", "100000")
	srv.Env = env
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
		scripttest.StopAgents(home)
	}()
	addr, err := waitServer(home)
	if err != nil {
		return err
	}
	base := "http://" + addr
	// Deployed through the server, so that the token's owner has it.
	env = append(env, "FAAS_SERVER="+base, "FAAS_TOKEN="+token)
	if _, err := faasCmd("deploy", fn, "--max-instances", "2", "--concurrency", strconv.Itoa(slots), "--memory", "128M"); err != nil {
		return err
	}
	url := base + "/v1/functions/noop/invoke"
	body := []byte(`{"n": 1}`)

	// Warm both instances: enough concurrent calls that a second starts.
	fmt.Fprintf(os.Stderr, "warming up…\n")
	if w := load(url, token, 2*slots+2, 2*time.Second, body); w.n == 0 {
		return fmt.Errorf("warm-up: no invocation succeeded: %s", w.firstErr)
	}
	before, err := scrape(base, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "(a) faas serve, %d in flight for %s…\n", conc, dur)
	a := measure(url, token, conc, dur, body)
	after, err := scrape(base, token)
	if err != nil {
		return err
	}
	// (a') as many in flight as the instances have slots: what faas adds
	// to a call when no call waits for a slot.
	fit := 2 * slots
	fmt.Fprintf(os.Stderr, "(a') faas serve, %d in flight for %s…\n", fit, dur/2)
	a2 := measure(url, token, fit, dur/2, body)
	after2, err := scrape(base, token)
	if err != nil {
		return err
	}
	// (a'') one call at a time: the overhead of a call on an idle server.
	fmt.Fprintf(os.Stderr, "(a'') faas serve, 1 in flight for %s…\n", dur/2)
	a1 := measure(url, token, 1, dur/2, body)
	after1, err := scrape(base, token)
	if err != nil {
		return err
	}
	env = withoutServer(env)
	instances, _ := faasCmd("top", "--once", "-o", "json")
	nInst := strings.Count(instances, `"provider":`)
	env = append(env, "FAAS_SERVER="+base, "FAAS_TOKEN="+token)
	httpRuns, err := measureHTTP(dir, base, token, faasCmd, conc, dur, slots)
	if err != nil {
		return err
	}
	pg, err := measurePostgres(dir, faas, fn, conc, dur, slots)
	if err != nil {
		return err
	}
	env = withoutServer(env)

	// (b) the original design behind a minimal HTTP handler.
	orig := filepath.Join(dir, "original.py")
	if err := os.WriteFile(orig, []byte(benchutil.Original), 0o644); err != nil {
		return err
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return err
	}
	// (b) python3 as found on PATH, as the original design ran it; (b')
	// the distribution's interpreter when that is another one (a pyenv
	// shim on PATH costs a second process).
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
		fmt.Fprintf(os.Stderr, "(b) original design (%s per request), %d in flight for %s…\n", python, conc, baseDur)
		return measure("http://"+ln.Addr().String()+"/", "", conc, baseDur, body), nil
	}
	b, err := original(python)
	if err != nil {
		return err
	}
	var b2 *result
	if real, err := filepath.EvalSymlinks("/usr/bin/python3"); err == nil {
		if mine, _ := filepath.EvalSymlinks(python); mine != real {
			r, err := original("/usr/bin/python3")
			if err != nil {
				return err
			}
			b2 = &r
		}
	}

	over, over2, over1 := diff(after, before), diff(after2, after), diff(after1, after2)
	fmt.Printf("\n`faas serve` under load: %d requests in flight, loopback, 2 instances of a no-op Python handler (%d slots each), %d CPUs\n\n",
		conc, slots, runtimeCPUs())
	fmt.Printf("load generator: %s; (b) runs %s\n\n", a.loader, python)
	fmt.Println("| case | invocations/s | p50 ms | p99 ms | errors |")
	fmt.Println("|---|---|---|---|---|")
	row := func(name string, r result) {
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %d |\n", name, r.rps(), ms(r.q(0.5)), ms(r.q(0.99)), r.errors)
	}
	row(fmt.Sprintf("(a) faas serve, sync invoke, %d in flight", conc), a)
	row(fmt.Sprintf("(a') faas serve, sync invoke, %d in flight (= slots)", fit), a2)
	row("(a'') faas serve, sync invoke, 1 in flight", a1)
	row(fmt.Sprintf("(b) original design: python3 per request, %d in flight", conc), b)
	if b2 != nil {
		row(fmt.Sprintf("(b') original design: /usr/bin/python3 per request, %d in flight", conc), *b2)
	}
	fmt.Printf("\n(a)/(b) throughput: %.1f×\n", a.rps()/b.rps())
	if b2 != nil {
		fmt.Printf("(a)/(b') throughput: %.1f×\n", a.rps()/b2.rps())
	}
	q := func(h hist, p float64) float64 { return benchutil.Quantile(p, h.bounds, h.cum) * 1e3 }
	fmt.Printf("platform overhead per call (faas_platform_overhead_seconds: request time less the function's):\n")
	fmt.Printf("  (a'') %d calls, one at a time:           p50 %.3f ms, p99 %.3f ms\n", over1.cum[len(over1.cum)-1], q(over1, 0.5), q(over1, 0.99))
	fmt.Printf("  (a')  %d calls, none waiting for a slot: p50 %.3f ms, p99 %.3f ms\n", over2.cum[len(over2.cum)-1], q(over2, 0.5), q(over2, 0.99))
	fmt.Printf("  (a)   %d calls, %d waiting for a slot:  p50 %.3f ms, p99 %.3f ms\n", over.cum[len(over.cum)-1], conc-fit, q(over, 0.5), q(over, 0.99))
	fmt.Printf("instances at the end of (a): %d\n", nInst)
	if a.firstErr != "" || b.firstErr != "" {
		fmt.Printf("first errors: (a) %q (b) %q\n", a.firstErr, b.firstErr)
	}
	httpRuns.print()
	pg.print(a, conc)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func runtimeCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func withoutServer(env []string) []string {
	out := env[:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "FAAS_SERVER=") && !strings.HasPrefix(e, "FAAS_TOKEN=") {
			out = append(out, e)
		}
	}
	return out
}

func waitServer(home string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := faashome.ReadServer(home); st.Running {
			if resp, err := http.Get("http://" + st.Addr + "/healthz"); err == nil {
				resp.Body.Close()
				return st.Addr, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("faas serve did not come up")
}

type hist struct {
	bounds []float64
	cum    []uint64
}

// scrape reads the overhead histogram from /metrics.
func scrape(base, token string) (hist, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hist{}, err
	}
	defer resp.Body.Close()
	var h hist
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `faas_platform_overhead_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		b := math.Inf(1)
		if le != "+Inf" {
			b, _ = strconv.ParseFloat(le, 64)
		}
		c, _ := strconv.ParseUint(count, 10, 64)
		h.bounds = append(h.bounds, b)
		h.cum = append(h.cum, c)
	}
	return h, sc.Err()
}

func diff(a, b hist) hist {
	out := hist{bounds: a.bounds, cum: make([]uint64, len(a.cum))}
	for i := range a.cum {
		out.cum[i] = a.cum[i]
		if i < len(b.cum) {
			out.cum[i] -= b.cum[i]
		}
	}
	return out
}

var (
	wrkTotal = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkPerc  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)
	wrkErrs  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSock  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func unit(v float64, u string) time.Duration {
	switch u {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	case "m":
		return time.Duration(v * float64(time.Minute))
	}
	return time.Duration(v * float64(time.Second))
}

// wrkLoad runs wrk with c connections (one thread per CPU) for d, POSTing
// body with the token, and reads its totals and latency percentiles.
func wrkLoad(url, token string, c int, d time.Duration, body []byte) result {
	r := result{loader: "wrk"}
	dir, err := os.MkdirTemp("", "faas-wrk-")
	if err != nil {
		r.firstErr = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	script := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\n", body)
	if token != "" {
		script += fmt.Sprintf("wrk.headers[\"Authorization\"] = %q\n", "Bearer "+token)
	}
	lua := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(lua, []byte(script), 0o600); err != nil {
		r.firstErr = err.Error()
		return r
	}
	threads := 1 // one event loop keeps up, and leaves the CPUs to what is measured
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(c), "-d", strconv.Itoa(int(d.Seconds()))+"s",
		"--latency", "-s", lua, url).CombinedOutput()
	if err != nil {
		r.firstErr = fmt.Sprintf("wrk: %v: %s", err, out)
		return r
	}
	m := wrkTotal.FindSubmatch(out)
	if m == nil {
		r.firstErr = "wrk: no totals in: " + string(out)
		return r
	}
	r.n, _ = strconv.ParseInt(string(m[1]), 10, 64)
	v, _ := strconv.ParseFloat(string(m[2]), 64)
	r.elapsed = unit(v, string(m[3]))
	r.perc = map[float64]time.Duration{}
	for _, p := range wrkPerc.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		q := 0.5
		if string(p[1]) == "99" {
			q = 0.99
		}
		r.perc[q] = unit(v, string(p[3]))
	}
	if e := wrkErrs.FindSubmatch(out); e != nil {
		r.errors, _ = strconv.ParseInt(string(e[1]), 10, 64)
		r.firstErr = "non-2xx responses"
	}
	if e := wrkSock.FindSubmatch(out); e != nil {
		for _, x := range e[1:] {
			k, _ := strconv.ParseInt(string(x), 10, 64)
			r.errors += k
		}
	}
	r.n -= r.errors
	return r
}
