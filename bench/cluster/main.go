// Command cluster measures faas serve with faas worker processes on one
// machine, in one run:
//
//	(a) throughput: a handler that sleeps 50 ms, concurrency 4 per
//	    instance, each worker --capacity 4, driven for -d with 4 requests in
//	    flight per worker, with 1, 2 and 3 workers (the server runs none
//	    itself: --capacity 0); the ratio of 3 workers to 1 (want ≥ 2.7);
//	(b) the NATS hop: two no-op handlers, one warm on the server's own
//	    host (a server with --capacity 1), one warm on a worker, called
//	    alternately one at a time; the difference of their p50s (want ≤
//	    0.5 ms).
//
// Every worker has its own FAAS_HOME; NATS is the server's embedded one,
// listening on loopback with a password. Run it from the repository root:
//
//	go run ./bench/cluster [-d 10s] [-hop 3s]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	dir, faas, base, token, home string
	env                          []string
	srv                          *exec.Cmd
	workers                      []*exec.Cmd
}

func run(dur, hop time.Duration) error {
	dir, faas, err := benchutil.Setup("faas-bench-cluster-", map[string]string{"sleep50.py": sleep50, "here.py": noop, "there.py": noop, "auth": auth})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, faas: faas, env: append(os.Environ(), "NO_COLOR=1", "FAAS_SERVER=", "FAAS_TOKEN=")}
	defer b.stop()
	fmt.Printf("bench/cluster: %s per throughput case, %s of hop pairs, on %d CPUs\n\n", dur, hop, runtime.NumCPU())

	// (b) A server that runs calls itself too (--capacity 1): "here" is
	// warm on its host (called before any worker joined), "there" on the
	// worker (its cold start went to the most free host). Calls of the two
	// alternate, one at a time, so that both see the same machine.
	if err := b.start("srv1", "1", "here.py", "there.py"); err != nil {
		return err
	}
	b.drive("here", 1, 500*time.Millisecond)
	if err := b.addWorker(); err != nil {
		return err
	}
	b.drive("there", 1, 500*time.Millisecond)
	var here, there result
	for end := time.Now().Add(hop); time.Now().Before(end); {
		here.add(b.drive("here", 1, 0))
		there.add(b.drive("there", 1, 0))
	}
	slices.Sort(here.lat)
	slices.Sort(there.lat)
	hh, th := b.lastHost("here"), b.lastHost("there")
	b.stop()

	// (a) A server that runs nothing itself (--capacity 0), 1 to 3 workers.
	if err := b.start("srv2", "0", "sleep50.py"); err != nil {
		return err
	}
	var tput []float64
	for k := 1; k <= 3; k++ {
		if err := b.addWorker(); err != nil {
			return err
		}
		b.drive("sleep50", 4*k, time.Second) // warm every worker up
		r := b.drive("sleep50", 4*k, dur)
		tput = append(tput, r.rps())
		fmt.Printf("(a) %d worker(s), %2d in flight: %7.1f invocations/s  p50 %s  p99 %s  errors %d %s\n",
			k, 4*k, r.rps(), benchutil.MS(r.q(0.5)), benchutil.MS(r.q(0.99)), r.errors, r.firstErr)
	}
	ratio := tput[2] / tput[0]
	fmt.Printf("    3 workers / 1 worker: %.2fx (want >= 2.7) %s\n\n", ratio, benchutil.Verdict(ratio >= 2.7))
	added := there.q(0.5) - here.q(0.5)
	fmt.Printf("(b) warm no-op, one at a time, %d pairs: on the server's host (%s) p50 %s p99 %s; on a worker (%s) p50 %s p99 %s\n",
		len(here.lat), hh, benchutil.MS(here.q(0.5)), benchutil.MS(here.q(0.99)), th, benchutil.MS(there.q(0.5)), benchutil.MS(there.q(0.99)))
	fmt.Printf("    the NATS hop adds %s ms at p50 (want <= 0.5 ms) %s\n", benchutil.MS(added), benchutil.Verdict(added <= 500*time.Microsecond))
	return nil
}

// start starts a server of its own home with this capacity, and deploys
// the files through it with concurrency 4.
func (b *bench) start(name, capacity string, files ...string) error {
	b.home = filepath.Join(b.dir, name)
	tok, err := b.cmd(b.home, "serve", "token", "create", "bench")
	if err != nil {
		return err
	}
	b.token = tok
	b.srv = exec.Command(b.faas, "serve", "--addr", "127.0.0.1:0", "--quiet", "--max-inflight", "100000", "--capacity", capacity,
		"--name", "server", "--nats-listen", "127.0.0.1:0", "--nats-auth", filepath.Join(b.dir, "auth"))
	b.srv.Env = append(slices.Clone(b.env), "FAAS_HOME="+b.home)
	b.srv.Stderr = os.Stderr
	if err := b.srv.Start(); err != nil {
		return err
	}
	if b.base, err = waitServer(b.home); err != nil {
		return err
	}
	for _, fn := range files {
		c := exec.Command(b.faas, "deploy", filepath.Join(b.dir, fn), "--concurrency", "4")
		c.Env = append(slices.Clone(b.env), "FAAS_SERVER="+b.base, "FAAS_TOKEN="+b.token, "FAAS_HOME="+b.home)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("deploy %s: %v: %s", fn, err, out)
		}
	}
	return nil
}

// stop stops the workers and the server.
func (b *bench) stop() {
	b.stopWorkers()
	if b.srv != nil {
		_ = b.srv.Process.Signal(os.Interrupt)
		_ = b.srv.Wait()
		scripttest.StopAgents(b.home)
		b.srv = nil
	}
}

// lastHost is the host of a function's last job.
func (b *bench) lastHost(fn string) string {
	req, _ := http.NewRequest(http.MethodGet, b.base+"/v1/jobs?limit=1&function="+fn, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	var jobs []struct {
		Host string `json:"host"`
	}
	if json.NewDecoder(resp.Body).Decode(&jobs) != nil || len(jobs) == 0 {
		return "?"
	}
	return jobs[0].Host
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
func (b *bench) addWorker() error {
	n := len(b.workers) + 1
	name := fmt.Sprintf("w%d", n)
	tok, err := b.cmd(b.home, "serve", "token", "create", "--worker", name)
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
	return b.waitWorkers(n + 1)
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
func (b *bench) waitWorkers(n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ws []struct {
			State string `json:"state"`
		}
		if faashome.ReadJSON(filepath.Join(b.home, "run", "workers.json"), &ws) == nil {
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

type result struct {
	n, errors int64
	elapsed   time.Duration
	lat       []time.Duration
	firstErr  string
}

// add appends another result's calls.
func (r *result) add(o result) {
	r.n, r.errors, r.elapsed = r.n+o.n, r.errors+o.errors, r.elapsed+o.elapsed
	r.lat = append(r.lat, o.lat...)
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) q(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// drive keeps c synchronous invokes of fn in flight for d (each makes at
// least one).
func (b *bench) drive(fn string, c int, d time.Duration) result {
	l := benchutil.DriveHTTP(b.base+"/v1/functions/"+fn+"/invoke", b.token, c, d, []byte(`{"x":1}`), true)
	return result{n: l.N, errors: l.Errors, elapsed: l.Elapsed, lat: l.Lat, firstErr: l.FirstErr}
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
