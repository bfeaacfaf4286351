package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// fakeProvider runs invocations in-process: each sleeps for its payload's
// milliseconds.
type fakeProvider struct {
	launches atomic.Int32
	sleep    time.Duration
	// invoking, when set, is told of each call as it starts.
	invoking chan struct{}
}

func (p *fakeProvider) Name() string              { return "fake" }
func (p *fakeProvider) Endpoint(id string) string { return "fake:" + id }
func (p *fakeProvider) Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	p.launches.Add(1)
	inst.Endpoint = p.Endpoint(inst.ID)
	return inst, nil
}
func (p *fakeProvider) Invoke(ctx context.Context, inst faastype.Instance, inv faastype.Invocation, starting bool) (faastype.Outcome, error) {
	start := time.Now()
	if p.invoking != nil {
		select {
		case p.invoking <- struct{}{}:
		default:
		}
	}
	select {
	case <-time.After(p.sleep):
	case <-ctx.Done():
		return faastype.Outcome{}, ctx.Err()
	}
	return faastype.Outcome{Status: faastype.Completed, Result: inv.Payload, StartedAt: start, EndedAt: time.Now()}, nil
}
func (p *fakeProvider) Stop(ctx context.Context, inst faastype.Instance) error { return nil }
func (p *fakeProvider) Alive(inst faastype.Instance) bool                      { return true }

type testCluster struct {
	ns      *Embedded
	placer  *Placer
	code    []byte
	workers map[string]*nats.Conn
	fake    *fakeProvider
	eng     *engine.Engine
}

func newTestCluster(t *testing.T, names []string, capacity int, sleep time.Duration) *testCluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ns, err := Embed(EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	home := t.TempDir()
	st, err := sqlite.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	nc, err := ConnectInProcess(ns, "server")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	tc := &testCluster{ns: ns, code: []byte("def handler(e, c):\n    return e\n"), workers: map[string]*nats.Conn{},
		fake: &fakeProvider{sleep: sleep}}
	tc.eng = engine.New(home, st)
	tc.placer = NewPlacer(nc, tc.eng, home, "server", nil, nil)
	if err := tc.placer.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		wnc, err := ConnectInProcess(ns, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(wnc.Close)
		tc.workers[name] = wnc
		w := NewWorker(wnc, WorkerOptions{Name: name, Home: t.TempDir(), Capacity: capacity, Default: "fake",
			Providers: map[string]provider.Provider{"fake": tc.fake},
			Fetch:     func(context.Context, faastype.Invocation) ([]byte, error) { return tc.code, nil }})
		go func() { _ = w.Run(ctx) }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tc.placer.Workers()) < len(names) {
		if time.Now().After(deadline) {
			t.Fatalf("workers did not join: %v", tc.placer.Workers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return tc
}

func (tc *testCluster) call(ctx context.Context, id string) (faastype.Outcome, string, error) {
	sum := sha256.Sum256(tc.code)
	inv := faastype.Invocation{JobID: id, Function: "hello", Version: 1, SHA256: hex.EncodeToString(sum[:]), Filename: "hello.py",
		Code: tc.code, Payload: []byte(`"x"`), Config: function.Config{Runtime: function.Python, Concurrency: 1, TimeoutMS: 30000}}
	return tc.placer.Run(ctx, engine.RemoteCall{JobID: id, Attempt: 1, Inv: inv}, func(string) error { return nil })
}

func TestWarmFirst(t *testing.T) {
	tc := newTestCluster(t, []string{"w1", "w2", "w3"}, 2, 0)
	hosts := map[string]int{}
	for i := range 20 {
		out, w, err := tc.call(context.Background(), "job"+string(rune('a'+i)))
		if err != nil || string(out.Result) != `"x"` {
			t.Fatalf("call %d: %v %q", i, err, out.Result)
		}
		hosts[w]++
	}
	if n := tc.fake.launches.Load(); n != 1 || len(hosts) != 1 {
		t.Fatalf("20 sequential calls: %d launches on %v, want 1 on one worker", n, hosts)
	}
}

func TestBusySpills(t *testing.T) {
	tc := newTestCluster(t, []string{"w1", "w2", "w3"}, 1, 300*time.Millisecond)
	var mu sync.Mutex
	hosts := map[string]int{}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, w, err := tc.call(context.Background(), "spill"+string(rune('a'+i)))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			hosts[w]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(hosts) != 3 {
		t.Fatalf("3 calls at once on workers of capacity 1 ran on %v, want 3 workers", hosts)
	}
}

func TestLostWorker(t *testing.T) {
	tc := newTestCluster(t, []string{"w1"}, 1, time.Minute)
	tc.fake.invoking = make(chan struct{}, 1)
	go func() {
		<-tc.fake.invoking       // the call runs on w1
		tc.workers["w1"].Close() // as a kill -9: silent from now on
	}()
	start := time.Now()
	_, w, err := tc.call(context.Background(), "lost")
	if !errors.Is(err, engine.ErrWorkerLost) || w != "w1" {
		t.Fatalf("got %v from %q, want ErrWorkerLost from w1", err, w)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("lost after %s, want within 5 s", d)
	}
}
