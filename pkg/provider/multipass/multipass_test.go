package multipass_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/internal/agentbuild"
	"github.com/faasdev/faas/internal/fakemultipass"
	"github.com/faasdev/faas/pkg/app"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider/multipass"
)

// homes holds the users' homes as the stand-in's snap rules see them.
var homes string

// The test binary is also the stand-in multipass (on PATH); the agent
// copied into its VMs is the static cmd/faas-agent, built here.
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
	agent, err := agentbuild.Build(dir)
	if err != nil {
		panic(err)
	}
	homes = filepath.Join(dir, "home")
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.Setenv("FAAS_AGENT_BINARY", agent)
	os.Setenv("FAAS_AGENT_BINARY_STATIC", agent) // tests that change the other keep this one
	os.Setenv(fakemultipass.EnvHomeDirs, homes)
	vms := filepath.Join(dir, "vms")
	os.Setenv(fakemultipass.EnvDir, vms)
	// Race-built programs sleep a second at exit by default; every
	// multipass call is one.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	code := m.Run()
	fakemultipass.KillAll(vms)
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup gives a test its own stand-in state and a FAAS_HOME where faas
// keeps it by default, ~/.local/share/faas: a hidden directory the snap
// cannot read.
func setup(t *testing.T) (context.Context, string) {
	t.Helper()
	vms := t.TempDir()
	t.Setenv(fakemultipass.EnvDir, vms)
	t.Cleanup(func() { fakemultipass.KillAll(vms) })
	home, err := os.MkdirTemp(homes, "user-")
	if err != nil && os.MkdirAll(homes, 0o755) == nil {
		home, err = os.MkdirTemp(homes, "user-")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	t.Setenv("HOME", home)
	faasHome := filepath.Join(home, ".local", "share", "faas")
	if err := os.MkdirAll(faasHome, 0o700); err != nil {
		t.Fatal(err)
	}
	return context.Background(), faasHome
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

// noVMs fails unless multipass lists nothing and is creating nothing.
func noVMs(t *testing.T, vm string) {
	t.Helper()
	if list := multipassJSON(t, "list", "--format", "json")["list"].([]any); len(list) != 0 {
		t.Errorf("VMs left behind: %v", list)
	}
	out, _ := exec.Command("multipass", "set", "local."+vm+".cpus=1").CombinedOutput()
	if !strings.Contains(string(out), "No such instance") {
		t.Errorf("%s is still being created: %s", vm, out)
	}
}

func handler(name, code string, rt function.Runtime) faastype.Invocation {
	sum := sha256.Sum256([]byte(code))
	cfg := function.DefaultConfig()
	cfg.Runtime, cfg.Mode = rt, function.Handler
	ext := map[function.Runtime]string{function.Python: ".py", function.Node: ".js"}[rt]
	return faastype.Invocation{JobID: "job1", Function: name, Version: 1, SHA256: hex.EncodeToString(sum[:]),
		Filename: name + ext, Code: []byte(code), Config: cfg}
}

func instance(fn string) faastype.Instance {
	return faastype.Instance{ID: "multipass-" + fn + "-1", Function: fn, Provider: multipass.Name}
}

func newProvider(t *testing.T, ctx context.Context, home string) (*multipass.Provider, *bytes.Buffer) {
	t.Helper()
	p, err := multipass.New(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	var debug bytes.Buffer
	p.R.Debug = &debug
	return p, &debug
}

func TestLaunchInvokeResizeStop(t *testing.T) {
	ctx, home := setup(t)
	p, debug := newProvider(t, ctx, home)
	inv := handler("vmfn", "def handler(event, context):\n    return 'in a vm'\n", function.Python)
	inst, err := p.Launch(ctx, instance("vmfn"), inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), inst) })
	if !strings.HasPrefix(inst.Endpoint, "http://127.0.") || len(inst.Token) != 48 {
		t.Fatalf("instance %+v", inst)
	}
	// Nothing of FAAS_HOME is handed to multipass by path: the cloud-config
	// and the agent come on stdin.
	for _, want := range []string{"--cloud-init -", "transfer - faas-vmfn-1:faas", "exec faas-vmfn-1 -- python3 --version"} {
		if !strings.Contains(debug.String(), want) {
			t.Errorf("no %q in what ran:\n%s", want, debug)
		}
	}
	if strings.Contains(debug.String(), home) {
		t.Errorf("FAAS_HOME handed to multipass:\n%s", debug)
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
	noVMs(t, "faas-vmfn-1")
}
