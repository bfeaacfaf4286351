package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

const prestartCode = "def handler(event, context):\n    return 'ok'\n"

// prestart hands the agent the request an instance is launched with.
func (h *harness) prestart(req api.InvokeRequest) {
	h.t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv.Prestart(bytes.NewReader(b))
}

// TestPrestartWarmsBeforeTheCall checks that a prestarted worker is up
// before any call, that the first call takes it and is still reported as a
// cold start, and that the next one is warm on the same worker.
func TestPrestartWarmsBeforeTheCall(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy(prestartCode, nil)
	h.prestart(req)
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := h.client.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Workers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no worker a minute after the prestart: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := h.invoke(req, "{}")
	if first.Status != string(faastype.Completed) || !first.Cold || first.InitMS <= 0 {
		t.Fatalf("first call: %+v, want completed, cold, with its init", first)
	}
	second := h.invoke(req, "{}")
	if second.Cold || second.Worker != first.Worker {
		t.Fatalf("second call: cold %v on %s, want warm on %s", second.Cold, second.Worker, first.Worker)
	}
}

// TestPrestartIsNotDoubled checks that a call that comes while the
// prestarted worker is starting waits for it instead of starting another,
// though its concurrency would allow two.
func TestPrestartIsNotDoubled(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy(prestartCode, func(c *function.Config) { c.Concurrency = 2 })
	h.prestart(req)
	resp := h.invoke(req, "{}")
	if resp.Status != string(faastype.Completed) || !resp.Cold || !strings.HasSuffix(resp.Worker, "-w1") {
		t.Fatalf("call: %+v, want a cold start on the prestarted worker (w1)", resp)
	}
	st, err := h.client.Stats(context.Background())
	if err != nil || st.Workers != 1 {
		t.Fatalf("workers %d (%v), want 1", st.Workers, err)
	}
}

// TestPrestartLeavesOthersToTheCall checks that what a prestart cannot
// warm (a script, a request that does not read) starts nothing.
func TestPrestartLeavesOthersToTheCall(t *testing.T) {
	h := start(t, Config{})
	req := h.deploy("print('hi')\n", nil)
	h.prestart(req)
	h.srv.Prestart(strings.NewReader("not json"))
	st, err := h.client.Stats(context.Background())
	if err != nil || st.Workers != 0 {
		t.Fatalf("workers %d (%v), want none", st.Workers, err)
	}
	if resp := h.invoke(req, ""); resp.Status != string(faastype.Completed) {
		t.Fatalf("script: %+v", resp)
	}
}
