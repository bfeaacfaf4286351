package local_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider/local"
)

func TestMain(m *testing.M) { scripttest.DoubleAsFaas(m) }

// helloHome is a FAAS_HOME, its local provider, and the invocation of a
// Python handler that returns "hi".
func helloHome(t *testing.T) (string, *local.Provider, faastype.Invocation) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("FAAS_HOME", home)
	p, err := local.New(home)
	if err != nil {
		t.Fatal(err)
	}
	code := "def handler(event, context):\n    return 'hi'\n"
	cfg := function.DefaultConfig()
	cfg.Runtime, cfg.Mode = function.Python, function.Handler
	inv := faastype.Invocation{JobID: "j1", Function: "f", Version: 1, SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(code))),
		Filename: "f.py", Code: []byte(code), Config: cfg}
	return home, p, inv
}

// TestAgentNeedsItsToken: a local agent's socket answers only a caller
// with the instance's token, which the provider derives and nobody
// without FAAS_HOME can.
func TestAgentNeedsItsToken(t *testing.T) {
	home, p, inv := helloHome(t)
	inst, err := p.Launch(context.Background(), faastype.Instance{ID: "local-f-1", Function: "f"}, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop(context.Background(), inst) }()
	if inst.Token == "" {
		t.Fatal("launched without a token")
	}
	for _, token := range []string{"", "wrong", strings.Repeat("0", 64)} {
		if _, err := client.New(inst.Endpoint, token).Health(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("token %q: %v, want 401", token, err)
		}
	}
	out, err := p.Invoke(context.Background(), inst, inv, false)
	if err != nil || string(out.Result) != "hi" {
		t.Fatalf("with its token: %q %v", out.Result, err)
	}
	// Another provider of the same home (another faas process) derives
	// the same token, with no row to read it from.
	q, _ := local.New(home)
	inst.Token = ""
	if out, err := q.Invoke(context.Background(), inst, inv, false); err != nil || string(out.Result) != "hi" {
		t.Fatalf("another process of the home: %q %v", out.Result, err)
	}
}

// TestLaunchSaysWhyAnAgentDidNotStart: an agent that cannot listen (the
// instance's socket is another live agent's) ends its launch at once, with
// its log's last line, rather than at the launch timeout.
func TestLaunchSaysWhyAnAgentDidNotStart(t *testing.T) {
	_, p, inv := helloHome(t)
	inst, err := p.Launch(context.Background(), faastype.Instance{ID: "local-f-1", Function: "f"}, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop(context.Background(), inst) }()
	start := time.Now()
	_, err = p.Launch(context.Background(), faastype.Instance{ID: "local-f-1", Function: "f"}, inv)
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "another agent answers") {
		t.Fatalf("second agent on the same socket: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to tell", d)
	}
}
