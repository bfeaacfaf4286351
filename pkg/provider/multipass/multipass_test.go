package multipass_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/internal/fakemultipass"
	"github.com/faasdev/faas/pkg/app"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider/multipass"
)

// The test binary is also the stand-in multipass (on PATH) and the faas
// binary copied into its VMs.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "multipass":
		os.Exit(fakemultipass.Main())
	case "faas":
		os.Exit(app.Main(os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "fake-multipass-")
	if err != nil {
		panic(err)
	}
	self, _ := os.Executable()
	if err := os.Symlink(self, filepath.Join(dir, "multipass")); err != nil {
		panic(err)
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	vms := filepath.Join(dir, "vms")
	os.Setenv("FAAS_FAKE_MULTIPASS_DIR", vms)
	// Race-built programs sleep a second at exit by default; every
	// multipass call is one.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	code := m.Run()
	fakemultipass.KillAll(vms)
	os.RemoveAll(dir)
	os.Exit(code)
}

func multipassJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := exec.Command("multipass", args...).Output()
	if err != nil {
		t.Fatalf("multipass %v: %v", args, err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("multipass %v: %v\n%s", args, err, out)
	}
	return v
}

func TestLaunchInvokeResizeStop(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	p, err := multipass.New(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	code := []byte("def handler(event, context):\n    return 'in a vm'\n")
	sum := sha256.Sum256(code)
	cfg := function.DefaultConfig()
	cfg.Runtime, cfg.Mode = function.Python, function.Handler
	inv := faastype.Invocation{JobID: "job1", Function: "vmfn", Version: 1, SHA256: hex.EncodeToString(sum[:]),
		Filename: "vmfn.py", Code: code, Config: cfg}
	inst, err := p.Launch(ctx, faastype.Instance{ID: "multipass-vmfn-1", Function: "vmfn", Provider: multipass.Name}, inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), inst) })
	if !strings.HasPrefix(inst.Endpoint, "http://127.0.") || len(inst.Token) != 48 {
		t.Fatalf("instance %+v", inst)
	}
	// The agent has no code yet: the provider copies it in and retries.
	out, err := p.Invoke(ctx, inst, inv, false)
	if err != nil || out.Status != faastype.Completed || string(out.Result) != "in a vm" {
		t.Fatalf("invoke: %+v, %v", out, err)
	}
	st, err := p.Stats(ctx, inst)
	if err != nil || st.RSSBytes <= 0 || st.DiskUsed <= 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	if err := p.Resize(ctx, inst, 2, 1024, 10240); err != nil {
		t.Fatal(err)
	}
	info := multipassJSON(t, "info", "faas-vmfn-1", "--format", "json")
	vm := info["info"].(map[string]any)["faas-vmfn-1"].(map[string]any)
	if vm["state"] != "Running" || vm["cpu_count"] != "2" {
		t.Fatalf("after resize: %v", vm)
	}
	inv.JobID = "job2"
	if out, err := p.Invoke(ctx, inst, inv, false); err != nil || out.Status != faastype.Completed {
		t.Fatalf("invoke after resize: %+v, %v", out, err)
	}
	if err := p.Stop(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if list := multipassJSON(t, "list", "--format", "json")["list"].([]any); len(list) != 0 {
		t.Fatalf("after stop: %v", list)
	}
}
