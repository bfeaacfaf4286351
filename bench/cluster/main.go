// Command cluster measures faas serve with faas worker processes on one
// machine, in one run:
//
//	(a) throughput: a handler that sleeps 50 ms, concurrency 4 per
//	    instance, each worker --capacity 4, driven for -d with 4 requests in
//	    flight per worker, with 1, 2 and 3 workers (the server runs none
//	    itself: --capacity 0); the ratio of 3 workers to 1 (want ≥ 2.7);
//	(b) the NATS hop: one warm no-op call at a time on the server's own
//	    host (before any worker joins, and again after they left) and on a
//	    worker; the difference of the p50s (want ≤ 0.5 ms).
//
// Every worker has its own FAAS_HOME; NATS is the server's embedded one,
// listening on loopback with a password. Run it from the repository root:
//
//	go run ./bench/cluster [-d 10s] [-hop 3s]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/faashome"
)

const (
	sleep50 = "import time\ndef handler(event, context):\n    time.sleep(0.05)\n    return 'ok'\n"
	noop    = "def handler(event, context):\n    return event\n"
	auth    = "worker:correct-horse-battery\n"
)

func main() {
	dur := flag.Duration("d", 10*time.Second, "how long to drive each throughput case")
	hop := flag.Duration("hop", 3*time.Second, "how long to measure each hop case")
	flag.Parse()
	if err := run(*dur, *hop); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	dir, faas, base, token string
	env                    []string
	workers                []*exec.Cmd
}

func run(dur, hop time.Duration) error {
	dir, faas, err := benchutil.Setup("faas-bench-cluster-", map[string]string{"sleep50.py": sleep50, "noop.py": noop, "auth": auth})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, faas: faas, env: append(os.Environ(), "NO_COLOR=1", "FAAS_SERVER=", "FAAS_TOKEN=")}
	home := filepath.Join(dir, "srv")
	if b.token, err = b.cmd(home, "serve", "token", "create", "bench"); err != nil {
		return err
	}
	srv := exec.Command(faas, "serve", "--addr", "127.0.0.1:0", "--quiet", "--max-inflight", "100000", "--capacity", "0",
		"--nats-listen", "127.0.0.1:0", "--nats-auth", filepath.Join(dir, "auth"))
	srv.Env = append(b.env, "FAAS_HOME="+home)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		b.stopWorkers()
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
		scripttest.StopAgents(home)
	}()
	if b.base, err = waitServer(home); err != nil {
		return err
	}
	remote := append([]string{"FAAS_SERVER=" + b.base, "FAAS_TOKEN=" + b.token}, "FAAS_HOME="+home)
	for _, fn := range []string{"sleep50.py", "noop.py"} {
		c := exec.Command(faas, "deploy", filepath.Join(dir, fn), "--concurrency", "4")
		c.Env = append(slices.Clone(b.env), remote...)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("deploy %s: %v: %s", fn, err, out)
		}
	}
	fmt.Printf("bench/cluster: %s per throughput case, %s per hop case, on %d CPUs\n\n", dur, hop, runtime.NumCPU())

	local1 := b.latency("noop", hop)
	if err := b.addWorker(home); err != nil {
		return err
	}
	onWorker := b.latency("noop", hop)
	var tput []float64
	for k := 1; k <= 3; k++ {
		if k > 1 {
			if err := b.addWorker(home); err != nil {
				return err
			}
		}
		b.drive("sleep50", 4*k, time.Second) // warm every worker up
		r := b.drive("sleep50", 4*k, dur)
		tput = append(tput, r.rps())
		fmt.Printf("(a) %d worker(s), %2d in flight: %7.1f invocations/s  p50 %s  p99 %s  errors %d %s\n",
			k, 4*k, r.rps(), benchutil.MS(r.q(0.5)), benchutil.MS(r.q(0.99)), r.errors, r.firstErr)
	}
	b.stopWorkers()
	if err := b.waitWorkers(home, 1); err != nil {
		return err
	}
	local2 := b.latency("noop", hop)
	ratio := tput[2] / tput[0]
	fmt.Printf("    3 workers / 1 worker: %.2fx (want >= 2.7) %s\n\n", ratio, benchutil.Verdict(ratio >= 2.7))
	localP50 := (local1.q(0.5) + local2.q(0.5)) / 2
	added := onWorker.q(0.5) - localP50
	fmt.Printf("(b) warm no-op, one at a time: server's host p50 %s (before %s, after %s), on a worker p50 %s (p99 %s)\n",
		benchutil.MS(localP50), benchutil.MS(local1.q(0.5)), benchutil.MS(local2.q(0.5)), benchutil.MS(onWorker.q(0.5)), benchutil.MS(onWorker.q(0.99)))
	fmt.Printf("    the NATS hop adds %s at p50 (want <= 0.5 ms) %s\n", benchutil.MS(added), benchutil.Verdict(added <= 500*time.Microsecond))
	return nil
}

func (b *bench) cmd(home string, args ...string) (string, error) {
	c := exec.Command(b.faas, args...)
	c.Env = append(slices.Clone(b.env), "FAAS_HOME="+home)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("faas %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// addWorker starts one more worker (capacity 4, its own home) and waits
// until the server lists it.
func (b *bench) addWorker(srvHome string) error {
	n := len(b.workers) + 1
	name := fmt.Sprintf("w%d", n)
	tok, err := b.cmd(srvHome, "serve", "token", "create", "--worker", name)
	if err != nil {
		return err
	}
	home := filepath.Join(b.dir, name)
	w := exec.Command(b.faas, "worker", "--server", b.base, "--name", name, "--capacity", "4", "--nats-user-file", filepath.Join(b.dir, "auth"))
	w.Env = append(slices.Clone(b.env), "FAAS_HOME="+home, "FAAS_TOKEN="+tok)
	if err := w.Start(); err != nil {
		return err
	}
	b.workers = append(b.workers, w)
	return b.waitWorkers(srvHome, n+1)
}

func (b *bench) stopWorkers() {
	for i, w := range b.workers {
		_ = w.Process.Signal(os.Interrupt)
		_ = w.Wait()
		scripttest.StopAgents(filepath.Join(b.dir, fmt.Sprintf("w%d", i+1)))
	}
	b.workers = nil
}

// waitWorkers waits until n hosts are up (the server's counts as one).
func (b *bench) waitWorkers(srvHome string, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ws []struct {
			State string `json:"state"`
		}
		if faashome.ReadJSON(filepath.Join(srvHome, "run", "workers.json"), &ws) == nil {
			up := 0
			for _, w := range ws {
				if w.State == "up" {
					up++
				}
			}
			if up == n {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the server did not list %d hosts up", n)
}

// latency makes one call at a time for d, after a warm-up.
func (b *bench) latency(fn string, d time.Duration) result {
	b.drive(fn, 1, 500*time.Millisecond)
	return b.drive(fn, 1, d)
}

type result struct {
	n, errors int64
	elapsed   time.Duration
	lat       []time.Duration
	firstErr  string
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) q(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// drive keeps c synchronous invokes of fn in flight for d.
func (b *bench) drive(fn string, c int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	url := b.base + "/v1/functions/" + fn + "/invoke"
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
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"x":1}`))
				req.Header.Set("Authorization", "Bearer "+b.token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Faas-Status") != "completed" {
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
	r := result{n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), firstErr: firstErr}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	slices.Sort(r.lat)
	return r
}

func waitServer(home string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := faashome.ReadServer(home); st.Running {
			if resp, err := http.Get("http://" + st.Addr + "/healthz"); err == nil {
				resp.Body.Close()
				return "http://" + st.Addr, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("faas serve did not come up")
}
