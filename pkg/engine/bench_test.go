package engine_test

import (
	"context"
	"testing"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	_ "github.com/faasdev/faas/pkg/provider/local"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// The test binary doubles as faas for the agents and sandbox shims that
// the real local provider starts.
func TestMain(m *testing.M) { scripttest.DoubleAsFaas(m) }

// BenchmarkInvokeWarm is the whole invoke path of the engine against a warm
// local instance: read the function, claim the job and place it (one
// transaction), the agent round trip, record the outcome (one transaction).
func BenchmarkInvokeWarm(b *testing.B) {
	ctx := context.Background()
	e := withHello(b, b.TempDir(), "def handler(event, context):\n    return {'message': 'Hello, ' + event.get('name', 'world')}\n")
	req := engine.InvokeRequest{Name: "hello", Payload: []byte(`{"name":"Ada"}`)}
	if j, err := e.Invoke(ctx, req); err != nil || j.Status != "completed" || !j.Cold {
		b.Fatalf("cold invoke: %+v, %v", j, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		j, err := e.Invoke(ctx, req)
		if err != nil || j.Status != "completed" || j.Cold {
			b.Fatalf("warm invoke: %+v, %v", j, err)
		}
	}
}

// withHello opens an engine on the SQLite store of home and deploys code
// as hello; both go when the test ends.
func withHello(tb testing.TB, home, code string) *engine.Engine {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, home)
	if err != nil {
		tb.Fatal(err)
	}
	e := engine.New(home, st)
	tb.Cleanup(func() { e.Close() })
	if _, err := e.Deploy(ctx, engine.DeployRequest{Filename: "hello.py", Code: []byte(code), Config: function.DefaultConfig()}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Remove(ctx, "hello") })
	return e
}
