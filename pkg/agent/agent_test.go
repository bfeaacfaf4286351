package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/build"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

// The test binary doubles as the sandbox shim, as the faas binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.SandboxArg {
		os.Exit(sandbox.SandboxMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

type harness struct {
	t        *testing.T
	srv      *Server
	home     string
	client   *client.Client
	endpoint string
	done     chan error
	cancel   context.CancelFunc
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	home := t.TempDir()
	cfg.Home = home
	cfg.Instance = "test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cfg.Function = "fn"
	if cfg.Addr == "" {
		cfg.Socket = filepath.Join(home, "a.sock")
	}
	s, err := New(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, srv: s, home: home, done: make(chan error, 1), cancel: cancel}
	go func() { h.done <- s.Serve(ctx, l) }()
	endpoint := "unix:" + cfg.Socket
	if cfg.Addr != "" {
		endpoint = "http://" + l.Addr().String()
	}
	h.client, h.endpoint = client.New(endpoint, cfg.Token), endpoint
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

// deploy writes code under the agent's home and returns the request that
// runs it.
func (h *harness) deploy(code string, mutate func(*function.Config)) api.InvokeRequest {
	h.t.Helper()
	cfg := function.DefaultConfig()
	cfg.Runtime = function.Python
	cfg.Mode = function.DetectMode(cfg.Runtime, []byte(code))
	cfg.TimeoutMS = 5000
	if mutate != nil {
		mutate(&cfg)
	}
	sum := sha256.Sum256([]byte(code))
	inv := faastype.Invocation{Function: "fn", Version: 1, SHA256: hex.EncodeToString(sum[:]), Filename: "fn.py", Code: []byte(code), Config: cfg}
	if _, err := codestore.Write(h.home, inv); err != nil {
		h.t.Fatal(err)
	}
	return api.NewInvokeRequest(inv)
}

var jobs struct {
	sync.Mutex
	n int
}

func (h *harness) invoke(req api.InvokeRequest, payload string) api.InvokeResponse {
	h.t.Helper()
	jobs.Lock()
	jobs.n++
	req.JobID = "job" + strconv.Itoa(jobs.n)
	jobs.Unlock()
	req.Payload = []byte(payload)
	resp, err := h.client.Invoke(context.Background(), req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// pidHandler answers with its worker's identity: a random token of the
// process (in a jail, every worker is the same pid of its own namespace).
const pidHandler = `import os, time
ME = os.urandom(8).hex()
def handler(event, context):
    if event == "spin":
        while True:
            pass
    if event == "slow":
        time.sleep(0.2)
    return ME
`

func TestWarmWorkersAndState(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("n = 0\ndef handler(event, context):\n    global n\n    n += 1\n    print('n is', n)\n    return n\n", nil)
	first := h.invoke(req, "")
	second := h.invoke(req, "")
	if first.Status != "completed" || !first.Cold || string(first.Result) != "1" || string(first.Logs) != "n is 1\n" {
		t.Fatalf("first: %+v", first)
	}
	if second.Cold || string(second.Result) != "2" || string(second.Logs) != "n is 2\n" || second.Worker != first.Worker {
		t.Fatalf("second: %+v", second)
	}
	st, err := h.client.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Invoked != 2 || st.ColdStarts != 1 || st.Workers != 1 || st.InFlight != 0 || st.RSSBytes <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTimeoutReplacesOnlyThatWorker(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy(pidHandler, func(c *function.Config) { c.Concurrency = 2; c.TimeoutMS = 1000 })
	// Warm two workers by running two calls at once.
	var wg sync.WaitGroup
	warm := make([]api.InvokeResponse, 2)
	for i := range warm {
		wg.Add(1)
		go func() { defer wg.Done(); warm[i] = h.invoke(req, "slow") }()
	}
	wg.Wait()
	pids := map[string]bool{string(warm[0].Result): true, string(warm[1].Result): true}
	if len(pids) != 2 {
		t.Fatalf("want two workers, got %v (%+v)", pids, warm)
	}
	spun := h.invoke(req, "spin")
	if spun.Status != "timeout" || !strings.Contains(spun.Error, "killed after 1s") {
		t.Fatalf("spin: %+v", spun)
	}
	// One of the two is gone; the other still answers warm, and a new one
	// takes the dead one's place.
	var after [2]api.InvokeResponse
	for i := range after {
		wg.Add(1)
		go func() { defer wg.Done(); after[i] = h.invoke(req, "slow") }()
	}
	wg.Wait()
	var warmKept, fresh int
	for _, r := range after {
		switch {
		case !r.Cold && pids[string(r.Result)]:
			warmKept++
		case r.Cold && !pids[string(r.Result)]:
			fresh++
		}
	}
	if warmKept != 1 || fresh != 1 {
		t.Fatalf("after the timeout: %+v / %+v (old pids %v)", after[0], after[1], pids)
	}
}

func TestNewVersionRollsWithoutFailingJobsInFlight(t *testing.T) {
	dir := t.TempDir()
	// The function and the test meet in dir, which its jail shares.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAAS_JAIL_SHARE", dir)
	h := start(t, Config{})
	v1 := h.deploy("import os, time\ndef handler(event, context):\n    open(os.path.join(\""+dir+"\", 'in'), 'w').close()\n    while not os.path.exists(os.path.join(\""+dir+"\", 'go')):\n        time.sleep(0.005)\n    return 'v1'\n", nil)
	v2 := h.deploy("def handler(event, context):\n    return 'v2'\n", nil)
	old := make(chan api.InvokeResponse, 1)
	go func() { old <- h.invoke(v1, "") }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "in")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := h.invoke(v2, ""); string(r.Result) != "v2" || r.Status != "completed" {
		t.Fatalf("v2: %+v", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := <-old; string(r.Result) != "v1" || r.Status != "completed" {
		t.Fatalf("the job in flight on v1: %+v", r)
	}
}

func TestCrashAndInitFailure(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("import os\ndef handler(event, context):\n    if event == 'die':\n        print('dying')\n        os._exit(3)\n    return 'ok'\n", nil)
	if r := h.invoke(req, "die"); r.Status != "failed" || r.Error != "the worker exited with status 3" || !strings.Contains(string(r.Logs), "dying") {
		t.Fatalf("die: %+v", r)
	}
	if r := h.invoke(req, "x"); r.Status != "completed" || !r.Cold {
		t.Fatalf("after the crash: %+v", r)
	}
	bad := h.deploy("import nope_not_here\ndef handler(e, c):\n    return 1\n", nil)
	if r := h.invoke(bad, ""); r.Status != "failed" || !strings.HasPrefix(r.Error, "init: ModuleNotFoundError") || !strings.Contains(string(r.Logs), "Traceback") {
		t.Fatalf("init failure: %+v", r)
	}
}

// TestExitStatusOfAWorkerThatWentByItself checks that a worker whose
// frames end before its process does (its jail's init still reporting) is
// waited for, not killed: its job says its exit status, not a signal.
func TestExitStatusOfAWorkerThatWentByItself(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("import os, time\ndef handler(event, context):\n    os.close(4)\n    time.sleep(0.3)\n    os._exit(3)\n", nil)
	if r := h.invoke(req, ""); r.Status != "failed" || r.Error != "the worker exited with status 3" {
		t.Fatalf("%+v, want the worker's exit status", r)
	}
}

func TestScriptsRunPerInvocation(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("import sys\nprint(sys.stdin.read()[::-1])\n", nil)
	if r := h.invoke(req, "abc"); r.Status != "completed" || string(r.Result) != "cba\n" || !r.Cold {
		t.Fatalf("script: %+v", r)
	}
}

func TestIdleAgentExits(t *testing.T) {
	h := start(t, Config{Idle: 100 * time.Millisecond})
	req := h.deploy("def handler(e, c):\n    return 1\n", nil)
	h.invoke(req, "")
	select {
	case err := <-h.done:
		h.done <- err
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the idle agent did not exit")
	}
	if _, err := h.client.Health(context.Background()); !errors.Is(err, faastype.ErrGone) {
		t.Fatalf("after exit: %v, want ErrGone", err)
	}
}

func TestTCPNeedsTheToken(t *testing.T) {
	h := start(t, Config{Addr: "127.0.0.1:0", Token: "s3cret"})
	if _, err := h.client.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"", "wrong"} {
		if _, err := client.New(h.endpoint, token).Health(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("token %q: %v, want 401", token, err)
		}
	}
}

func TestBadRequests(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("def handler(e, c):\n    return 1\n", nil)
	missing := req
	missing.SHA256 = strings.Repeat("0", 64)
	missing.CodeName = ""
	missing.JobID = "j"
	if _, err := h.client.Invoke(context.Background(), missing); !errors.Is(err, api.ErrCodeMissing) {
		t.Errorf("missing code: %v", err)
	}
	empty := api.InvokeRequest{}
	if _, err := h.client.Invoke(context.Background(), empty); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("empty request: %v", err)
	}
}

// A call waiting for the only worker gets a new one when that worker dies
// (it waited forever before: a dead worker freed its place but woke no one).
func TestWaiterGetsADeadWorkersPlace(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy(`import os, time
def handler(event, context):
    if event == "die":
        time.sleep(0.3)
        os._exit(3)
    return "ok"
`, func(c *function.Config) { c.Concurrency = 1 })
	died := make(chan api.InvokeResponse, 1)
	go func() { died <- h.invoke(req, "die") }()
	// The second call queues behind the first: give it a deadline so that a
	// regression fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waiter := req
	waiter.JobID, waiter.Payload = "waiter", []byte("ok")
	// Wait until "die" holds the worker.
	for st, err := h.client.Stats(ctx); err == nil && st.InFlight == 0; st, err = h.client.Stats(ctx) {
		select {
		case <-ctx.Done():
			t.Fatal("the first call never started")
		case <-time.After(5 * time.Millisecond):
		}
	}
	resp, err := h.client.Invoke(ctx, waiter)
	if err != nil || resp.Status != "completed" || string(resp.Result) != "ok" {
		t.Fatalf("the waiting call: %+v, %v", resp, err)
	}
	if d := <-died; d.Status != "failed" {
		t.Fatalf("the dying call: %+v", d)
	}
}

// TestAgentMemoryIsBoundedPerJob: a function that prints 30 MiB and
// returns 40 MiB cannot make its agent hold them: the agent keeps 1 MiB
// of logs and refuses a result frame past the limit, so its heap stays
// far below what the function wrote.
func TestAgentMemoryIsBoundedPerJob(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("import sys\ndef handler(event, context):\n    sys.stdout.write('x' * (30 << 20))\n    return 'y' * (40 << 20)\n",
		// The point is the agent's memory, not speed: 70 MiB through pipes
		// can take more than the default 5 s on a loaded machine.
		func(c *function.Config) { c.MemoryMB, c.TimeoutMS = 1024, 60_000 })
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	r := h.invoke(req, "")
	close(stop)
	<-sampled
	if r.Status != "failed" || !r.LogsTruncated || len(r.Logs) > 2<<20 {
		t.Fatalf("status %s, %d bytes of logs (truncated %v), error %q", r.Status, len(r.Logs), r.LogsTruncated, r.Error)
	}
	t.Logf("agent heap peak %d MiB; the job wrote 70 MiB", peak.Load()>>20)
	if p := peak.Load(); p > 48<<20 {
		t.Fatalf("the agent's heap reached %d MiB for a job that wrote 70 MiB", p>>20)
	}
}

// The agent mounts an environment where pkg/build built it, with its
// packages where the builder put them.
func TestDepsLayoutIsTheBuilders(t *testing.T) {
	if JailEnv != build.JailDir || build.PythonDir != "python" || build.NodeDir != "node_modules" {
		t.Fatalf("agent mounts at %s (python, node_modules); the builder builds at %s (%s, %s)", JailEnv, build.JailDir, build.PythonDir, build.NodeDir)
	}
}
