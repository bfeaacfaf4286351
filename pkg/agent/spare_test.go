package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/spare"
)

// TestSpareBecomesOneInstanceOnce starts a spare, refuses to make it a
// version with a secret, makes it an instance of a plain one (whose call
// runs on the stem, cold), and refuses to make it another.
func TestSpareBecomesOneInstanceOnce(t *testing.T) {
	if !sandbox.DetectSandbox().Jail {
		t.Skip("this host cannot jail: spares need a jail")
	}
	home := t.TempDir()
	py, err := interp.New(home).Find(function.Python)
	if err != nil {
		t.Skip(err)
	}
	id := spare.NewID(function.Python)
	if err := spare.Prepare(home, spare.Info{ID: id, Runtime: function.Python, Interpreter: py, Shape: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Home: home, Instance: id, Socket: faashome.AgentSocket(home, id), Token: "spare-token"}
	s, err := New(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := s.StartSpare(Spare{Runtime: function.Python, Interpreter: py, Shape: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(spare.Dir(home, id), "free")); err != nil {
		t.Fatalf("a started spare is not free: %v", err)
	}
	version := func(name string, mutate func(*function.Config)) api.InvokeRequest {
		code := "def handler(event, context):\n    return '" + name + "'\n"
		c := function.DefaultConfig()
		c.Runtime, c.Mode, c.Interpreter, c.TimeoutMS = function.Python, function.Handler, py, 5000
		if mutate != nil {
			mutate(&c)
		}
		sum := sha256.Sum256([]byte(code))
		inv := faastype.Invocation{Function: name, Version: 1, SHA256: hex.EncodeToString(sum[:]), Filename: name + ".py", Code: []byte(code), Config: c}
		if _, err := codestore.Write(home, inv); err != nil {
			t.Fatal(err)
		}
		return api.NewInvokeRequest(inv)
	}
	spareClient := client.New("unix:"+cfg.Socket, cfg.Token)
	defer spareClient.Close()
	secretive := version("secretive", func(c *function.Config) { c.Secrets = []function.SecretRef{{Name: "token"}} })
	err = spareClient.Become(ctx, api.BecomeRequest{Instance: "local-secretive-1", Function: "secretive", Token: "t1", Invoke: secretive})
	if err == nil || !strings.Contains(err.Error(), "cannot start from a spare: secrets") {
		t.Fatalf("a version with a secret became the spare: %v", err)
	}
	plain := version("plain", nil)
	if err := spareClient.Become(ctx, api.BecomeRequest{Instance: "local-plain-1", Function: "plain", Token: "t2", Invoke: plain}); err != nil {
		t.Fatal(err)
	}
	inst := client.New("unix:"+faashome.AgentSocket(home, "local-plain-1"), "t2")
	defer inst.Close()
	plain.JobID = "job-plain"
	out, err := inst.Invoke(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != string(faastype.Completed) || string(out.Result) != "plain" || !out.Cold {
		t.Fatalf("the first call of the spare's instance: %+v, want completed, plain, cold", out)
	}
	// Once an instance, it is that instance only: the spare's token no
	// longer opens it, and it becomes nothing else.
	again := client.New("unix:"+faashome.AgentSocket(home, "local-plain-1"), cfg.Token)
	defer again.Close()
	if err := again.Become(ctx, api.BecomeRequest{Instance: "local-other-1", Function: "other", Token: "t3", Invoke: version("other", nil)}); err == nil {
		t.Fatal("the spare's old token still opens the instance")
	}
	err = inst.Become(ctx, api.BecomeRequest{Instance: "local-other-1", Function: "other", Token: "t3", Invoke: version("other", nil)})
	if err == nil || !strings.Contains(err.Error(), "this spare was used") {
		t.Fatalf("a used spare became another instance: %v", err)
	}
}
