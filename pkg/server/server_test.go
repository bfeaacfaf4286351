package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/app"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store"
)

// The test binary doubles as faas for the agents the local provider starts.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "agent" || os.Args[1] == sandbox.SandboxArg) {
		os.Exit(app.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// start serves a fresh engine on a loopback port with one token per
// owner; it returns the base URL.
func start(tb testing.TB, owners ...string) (string, *engine.Engine, map[string]string) {
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.Open(ctx, tb.TempDir(), store.BackgroundCheckpoints(500*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tokens := map[string]string{}
	for _, o := range owners {
		tok := "faas_test_" + o
		if err := e.CreateToken(ctx, o, server.HashToken(tok)); err != nil {
			tb.Fatal(err)
		}
		tokens[o] = tok
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.New(server.Options{Engine: e, PerOwner: 1 << 20}).Serve(ctx, ln, "", "") }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
		for _, f := range []string{"noop", "hello"} {
			_ = e.Remove(context.Background(), f)
		}
		e.Close()
	})
	return "http://" + ln.Addr().String(), e, tokens
}

func do(tb testing.TB, c *http.Client, method, url, token string, body []byte) (*http.Response, []byte) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// BenchmarkServeInvoke is a synchronous invoke through the whole server:
// HTTP, the token, the engine and SQLite, the agent, in parallel.
func BenchmarkServeInvoke(b *testing.B) {
	base, e, tokens := start(b, "bench")
	code := []byte("def handler(event, context):\n    return event\n")
	cfg := function.DefaultConfig()
	cfg.MaxInstances, cfg.Concurrency = 2, 2
	if _, err := e.As("bench").Deploy(context.Background(), engine.DeployRequest{Filename: "noop.py", Code: code, Config: cfg}); err != nil {
		b.Fatal(err)
	}
	url := base + "/v1/functions/noop/invoke"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	if resp, body := do(b, c, http.MethodPost, url, tokens["bench"], []byte(`{}`)); resp.StatusCode != 200 {
		b.Fatalf("%s %s", resp.Status, body)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, body := do(b, c, http.MethodPost, url, tokens["bench"], []byte(`{"n":1}`))
			if resp.StatusCode != 200 || resp.Header.Get("X-Faas-Status") != "completed" {
				b.Fatalf("%s %s %s", resp.Status, resp.Header.Get("X-Faas-Error"), body)
			}
		}
	})
}
