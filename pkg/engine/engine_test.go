package engine

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
	_ "github.com/faasdev/faas/pkg/provider/local"
	_ "github.com/faasdev/faas/pkg/provider/multipass"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// fakeProvider returns a fixed outcome or error and records what it ran.
type fakeProvider struct {
	out      faastype.Outcome
	err      error
	runs     []faastype.Invocation
	launches int
}

func (f *fakeProvider) Name() string              { return "fake" }
func (f *fakeProvider) Endpoint(id string) string { return "fake:" + id }
func (f *fakeProvider) Launch(_ context.Context, in faastype.Instance, _ faastype.Invocation) (faastype.Instance, error) {
	f.launches++
	in.Endpoint = f.Endpoint(in.ID)
	return in, nil
}
func (f *fakeProvider) Invoke(_ context.Context, _ faastype.Instance, inv faastype.Invocation, _ bool) (faastype.Outcome, error) {
	f.runs = append(f.runs, inv)
	return f.out, f.err
}
func (f *fakeProvider) Stop(context.Context, faastype.Instance) error { return nil }
func (f *fakeProvider) Alive(faastype.Instance) bool                  { return true }

func newEngine(t *testing.T) *Engine {
	t.Helper()
	home := t.TempDir()
	st, err := sqlite.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	e := New(home, st)
	t.Cleanup(func() { e.Close() })
	return e
}

func deploy(t *testing.T, e *Engine, name, file, code string) DeployResult {
	t.Helper()
	res, err := e.Deploy(context.Background(), DeployRequest{Name: name, Filename: file, Code: []byte(code), Config: function.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func jobCount(t *testing.T, e *Engine) int {
	t.Helper()
	jobs, err := e.store.ListJobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(jobs)
}

func TestInvokeRecordsTheOutcome(t *testing.T) {
	e := newEngine(t)
	deploy(t, e, "fn", "fn.py", "print(1)")
	start := time.Now()
	code := 0
	fr := &fakeProvider{out: faastype.Outcome{
		Status: faastype.Completed, ExitCode: &code, Result: []byte("1\n"), Logs: []byte("log"),
		StartedAt: start, EndedAt: start.Add(1500 * time.Microsecond), Cold: false,
		PeakMemoryBytes: 1 << 20,
	}}
	e.SetProvider(fr)
	job, err := e.Invoke(context.Background(), InvokeRequest{Name: "fn", Payload: []byte("p"), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if fr.launches != 1 || len(fr.runs) != 1 || string(fr.runs[0].Payload) != "p" || fr.runs[0].Timeout != time.Second || fr.runs[0].JobID != job.ID {
		t.Fatalf("runner got %+v", fr.runs)
	}
	got, err := e.Job(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusCompleted || got.BilledMS != 2 || got.Duration != 1500*time.Microsecond ||
		string(got.Result) != "1\n" || string(got.Logs) != "log" || got.Instance != "fake-fn-1" || !got.Cold ||
		got.MemoryMB != 256 || got.PeakMemoryBytes != 1<<20 || got.Provider != "fake" || string(got.Payload) != "p" {
		t.Fatalf("recorded %+v", got)
	}
}

func TestInvokePlatformFailureStillFinishesTheJob(t *testing.T) {
	e := newEngine(t)
	deploy(t, e, "fn", "fn.py", "print(1)")
	e.SetProvider(&fakeProvider{err: fault.Platformf("sandbox broke")})
	job, err := e.Invoke(context.Background(), InvokeRequest{Name: "fn"})
	if err == nil || fault.KindOf(err) != fault.Platform {
		t.Fatalf("err = %v", err)
	}
	got, err := e.Job(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFailed || !strings.Contains(got.Error, "sandbox broke") || got.EndedAt.IsZero() {
		t.Fatalf("recorded %+v", got)
	}
}

func TestInvokeBadInputRecordsNothing(t *testing.T) {
	e := newEngine(t)
	deploy(t, e, "fn", "fn.py", "print(1)")
	fr := &fakeProvider{}
	e.SetProvider(fr)
	cases := []struct {
		req  InvokeRequest
		kind fault.Kind
	}{
		{InvokeRequest{Name: "ghost"}, fault.NotFound},
		{InvokeRequest{Name: "bad name"}, fault.Usage},
		{InvokeRequest{Name: "fn", Payload: make([]byte, PayloadLimit+1)}, fault.Usage},
		{InvokeRequest{Name: "fn", Timeout: -time.Second}, fault.Usage},
		{InvokeRequest{Name: "fn", Timeout: 2 * time.Hour}, fault.Usage},
	}
	for _, c := range cases {
		if _, err := e.Invoke(context.Background(), c.req); err == nil || fault.KindOf(err) != c.kind {
			t.Errorf("Invoke(%q) = %v, want kind %v", c.req.Name, err, c.kind)
		}
	}
	if n := jobCount(t, e); n != 0 || len(fr.runs) != 0 {
		t.Fatalf("%d jobs, %d runs after bad input", n, len(fr.runs))
	}
}

func TestDeployDetectsAndRejects(t *testing.T) {
	e := newEngine(t)
	res := deploy(t, e, "", "my_fn.py", "def handler(event, context):\n    return 1\n")
	if res.Function != "my-fn" || res.Version.Config.Mode != function.Handler || res.Version.Config.Runtime != function.Python || !res.Created {
		t.Fatalf("got %+v", res)
	}
	again := deploy(t, e, "", "my_fn.py", "def handler(event, context):\n    return 1\n")
	if again.Created || again.Version.Version != 1 {
		t.Fatalf("same code again: %+v", again)
	}
	bad := []DeployRequest{
		{Filename: "tool", Code: []byte("plain text")},
		{Filename: "x.py", Code: []byte("print(1)"), Provider: "multipass"},
		{Filename: "x.py", Code: []byte("print(1)"), Provider: "cloud"},
		{Filename: "x.sh", Code: []byte("echo"), Mode: function.Handler},
		{Filename: "-x.py", Code: []byte("print(1)")},
	}
	for _, r := range bad {
		r.Config = function.DefaultConfig()
		if _, err := e.Deploy(context.Background(), r); err == nil {
			t.Errorf("Deploy(%s, provider %q, mode %q) succeeded", r.Filename, r.Provider, r.Mode)
		}
	}
	fns, err := e.Functions(context.Background())
	if err != nil || len(fns) != 1 {
		t.Fatalf("functions %v, %v", fns, err)
	}
}

func TestJobsMarksDeadRunnersLost(t *testing.T) {
	e := newEngine(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	now := time.Now()
	for _, j := range []store.Job{
		{ID: "dead", RunnerPID: dead, RunnerStart: 1},
		{ID: "live", RunnerPID: os.Getpid(), RunnerStart: proc.Start(os.Getpid())},
		{ID: "reused", RunnerPID: os.Getpid(), RunnerStart: proc.Start(os.Getpid()) + 1},
	} {
		j.Function, j.Version, j.Status, j.QueuedAt, j.StartedAt, j.MemoryMB = "fn", 1, store.StatusRunning, now, now, 128
		if err := e.store.(*sqlite.Store).StartJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := e.Jobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, j := range jobs {
		status[j.ID] = j.Status
	}
	want := map[string]string{"dead": "lost", "live": "running", "reused": "lost"}
	for id, st := range want {
		if status[id] != st {
			t.Errorf("%s: %s, want %s", id, status[id], st)
		}
	}
}

func TestJobsValidatesFilters(t *testing.T) {
	e := newEngine(t)
	for _, f := range []store.JobFilter{{Status: "done"}, {Function: "a b"}, {Limit: -1}} {
		if _, err := e.Jobs(context.Background(), f); fault.KindOf(err) != fault.Usage {
			t.Errorf("Jobs(%+v) = %v, want a usage error", f, err)
		}
	}
	if _, err := e.Job(context.Background(), "nope"); fault.KindOf(err) != fault.NotFound {
		t.Errorf("Job(nope) = %v", err)
	}
}

func TestJobIDsSortByTimeAndDiffer(t *testing.T) {
	base := time.UnixMilli(1_800_000_000_000)
	var ids []string
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		id := NewJobID(base.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 16 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids do not sort by creation time")
	}
	// Within one millisecond the random part tells them apart.
	same := map[string]bool{}
	for range 200 {
		id := NewJobID(base)
		if same[id] || id[:10] != ids[0][:10] {
			t.Fatalf("id %q repeated, or its time part is not %q", id, ids[0][:10])
		}
		same[id] = true
	}
}
