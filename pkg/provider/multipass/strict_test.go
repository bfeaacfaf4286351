package multipass_test

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/faasdev/faas/internal/fakemultipass"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider/multipass"
	"github.com/faasdev/faas/pkg/provider/vmagent"
)

const pyHello = "def handler(event, context):\n    return 'hi'\n"

func invokeOK(t *testing.T, p *multipass.Provider, inst faastype.Instance, inv faastype.Invocation, want string) {
	t.Helper()
	out, err := p.Invoke(context.Background(), inst, inv, false)
	if err != nil || out.Status != faastype.Completed || string(out.Result) != want {
		t.Fatalf("invoke: %+v, %v", out, err)
	}
}

// launch --timeout fired (exit 5) while multipassd went on: the VM that
// appears later is used when it comes up, purged when it comes up broken,
// and nothing is left when the daemon gave up.
func TestLaunchClientTimeout(t *testing.T) {
	t.Run("appears later", func(t *testing.T) {
		ctx, home := setup(t)
		t.Setenv("FAAS_MULTIPASS_LAUNCH_TIMEOUT", "1s")
		t.Setenv(fakemultipass.EnvLaunchTime, "3s")
		p, debug := newProvider(t, ctx, home)
		inv := handler("late", pyHello, function.Python)
		inst, err := p.Launch(ctx, instance("late"), inv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(context.Background(), inst) })
		if n := strings.Count(debug.String(), "multipass launch "); n != 1 {
			t.Errorf("%d launches, want the one that timed out:\n%s", n, debug)
		}
		for _, want := range []string{"--timeout 1 ", "set local.faas-late-1.cpus=1", "exec faas-late-1 -- cloud-init status --wait"} {
			if !strings.Contains(debug.String(), want) {
				t.Errorf("no %q in what ran:\n%s", want, debug)
			}
		}
		invokeOK(t, p, inst, inv, "hi")
		if err := p.Stop(ctx, inst); err != nil {
			t.Fatal(err)
		}
		noVMs(t, "faas-late-1")
	})
	t.Run("comes up broken", func(t *testing.T) {
		ctx, home := setup(t)
		t.Setenv("FAAS_MULTIPASS_LAUNCH_TIMEOUT", "1s")
		t.Setenv(fakemultipass.EnvLaunchTime, "2s")
		// The first creation ends in the daemon's own timeout: Unknown.
		t.Setenv(fakemultipass.EnvLaunchTimeouts, "1")
		p, debug := newProvider(t, ctx, home)
		inv := handler("broken", pyHello, function.Python)
		inst, err := p.Launch(ctx, instance("broken"), inv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(context.Background(), inst) })
		if n := strings.Count(debug.String(), "multipass launch "); n != 2 || !strings.Contains(debug.String(), "delete --purge faas-broken-1") {
			t.Errorf("want the Unknown VM purged and a second launch:\n%s", debug)
		}
		invokeOK(t, p, inst, inv, "hi")
	})
	t.Run("never created", func(t *testing.T) {
		ctx, home := setup(t)
		t.Setenv("FAAS_MULTIPASS_LAUNCH_TIMEOUT", "1s")
		t.Setenv(fakemultipass.EnvLaunchTime, "2s")
		p, _ := newProvider(t, ctx, home)
		inv := handler("small", pyHello, function.Python)
		inv.Config.DiskMB = 1024 // the daemon refuses it once it has the image
		_, err := p.Launch(ctx, instance("small"), inv)
		if err == nil || !strings.Contains(err.Error(), "multipassd did not create faas-small-1") || !strings.Contains(fault.HintOf(err), "FAAS_MULTIPASS_LAUNCH_TIMEOUT") {
			t.Fatalf("launch: %v (%s)", err, fault.HintOf(err))
		}
		noVMs(t, "faas-small-1")
	})
}

func TestDiskFloor(t *testing.T) {
	ctx, home := setup(t)
	p, debug := newProvider(t, ctx, home)
	cfg := function.DefaultConfig()
	cfg.DiskMB = 1024
	err := p.CheckConfig(cfg)
	if fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), "--disk 1G is below the size of the Multipass image 24.04 (3.5G)") || fault.HintOf(err) != "deploy with --disk 4G or more (or --provider local)" {
		t.Errorf("check 1G: %v (%s)", err, fault.HintOf(err))
	}
	cfg.DiskMB = 4096
	if err := p.CheckConfig(cfg); err != nil {
		t.Errorf("check 4G: %v", err)
	}
	// Past the check, the daemon says it.
	inv := handler("tiny", pyHello, function.Python)
	inv.Config.DiskMB = 1024
	if _, err := p.Launch(ctx, instance("tiny"), inv); err == nil || !strings.Contains(err.Error(), "Requested disk (1073741824 bytes) below minimum for this image (3758096384 bytes)") {
		t.Errorf("launch 1G: %v", err)
	}
	if n := strings.Count(debug.String(), "multipass launch "); n != 1 {
		t.Errorf("%d launches: a refused disk is not retried\n%s", n, debug)
	}
	noVMs(t, "faas-tiny-1")

	// A prepared image's floor is its own size.
	img := filepath.Join(os.Getenv("HOME"), "images", "big.img")
	writeQcow2(t, img, 8<<30)
	t.Setenv("FAAS_MULTIPASS_IMAGE", "file://"+img)
	q, _ := newProvider(t, ctx, home)
	cfg.DiskMB = 5120
	if err := q.CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "(8.0G)") {
		t.Errorf("check 5G against an 8G image: %v", err)
	}
	// An image the snap cannot read is refused before multipass is asked.
	hidden := filepath.Join(os.Getenv("HOME"), ".images", "noble.img")
	writeQcow2(t, hidden, 3584<<20)
	t.Setenv("FAAS_MULTIPASS_IMAGE", "file://"+hidden)
	if _, err := multipass.New(ctx, home); err == nil || !strings.Contains(err.Error(), "cannot read hidden directories") {
		t.Errorf("an image in a hidden directory: %v", err)
	}
	t.Setenv("FAAS_MULTIPASS_IMAGE", "--disk=1G")
	if _, err := multipass.New(ctx, home); fault.KindOf(err) != fault.Usage {
		t.Errorf("an image that is an option: %v", err)
	}
}

func writeQcow2(t *testing.T, p string, size uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 104)
	copy(hdr, "QFI\xfb")
	binary.BigEndian.PutUint32(hdr[4:], 3)
	binary.BigEndian.PutUint64(hdr[24:], size)
	if err := os.WriteFile(p, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
}

// nodejs comes from apt at first boot: offline, the launch succeeds and
// the runtime is missing. The provider says so and leaves no VM.
func TestMissingRuntime(t *testing.T) {
	ctx, home := setup(t)
	t.Setenv(fakemultipass.EnvOffline, "1")
	p, _ := newProvider(t, ctx, home)
	node := handler("nodefn", "exports.handler = async (event) => 'from node';\n", function.Node)
	_, err := p.Launch(ctx, instance("nodefn"), node)
	if err == nil || !strings.Contains(err.Error(), "faas-nodefn-1 has no node for node functions: cloud-init could not install nodejs (apt needs network at first boot): E: Unable to locate package nodejs") ||
		!strings.Contains(fault.HintOf(err), "FAAS_MULTIPASS_IMAGE") {
		t.Fatalf("offline node launch: %v (%s)", err, fault.HintOf(err))
	}
	noVMs(t, "faas-nodefn-1")

	// python3 is in the image: offline is fine.
	py, err := p.Launch(ctx, instance("pyfn"), handler("pyfn", pyHello, function.Python))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), py) })

	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed here")
	}
	// A prepared image that has nodejs works offline.
	dir := filepath.Join(os.Getenv("HOME"), "images")
	writeQcow2(t, filepath.Join(dir, "noble-faas.img"), 3584<<20)
	if err := os.WriteFile(filepath.Join(dir, "noble-faas.manifest"), []byte("nodejs\t18.19.1+dfsg-6ubuntu5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAAS_MULTIPASS_IMAGE", "file://"+filepath.Join(dir, "noble-faas.img"))
	q, _ := newProvider(t, ctx, home)
	inst, err := q.Launch(ctx, instance("nodefn"), node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background(), inst) })
	invokeOK(t, q, inst, node, "from node")
}

// A set that fails in a resize undoes the others and starts the VM again.
func TestResizeSetFailure(t *testing.T) {
	ctx, home := setup(t)
	p, _ := newProvider(t, ctx, home)
	inv := handler("rs", pyHello, function.Python)
	inst, err := p.Launch(ctx, instance("rs"), inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background(), inst) })
	invokeOK(t, p, inst, inv, "hi")
	err = p.Resize(ctx, inst, 2, 1024, 4096) // the disk cannot shrink from 5G
	if err == nil || !strings.Contains(err.Error(), "Disk can only be expanded") || !strings.Contains(err.Error(), "it runs again at its old size") {
		t.Fatalf("resize: %v", err)
	}
	vm := multipassJSON(t, "info", "faas-rs-1", "--format", "json")["info"].(map[string]any)["faas-rs-1"].(map[string]any)
	if vm["state"] != "Running" || vm["cpu_count"] != "1" || vm["memory"].(map[string]any)["total"].(float64) != 512<<20 {
		t.Errorf("after a failed resize: %v", vm)
	}
	inv.JobID = "job2"
	invokeOK(t, p, inst, inv, "hi")
}

// The agent a VM runs must be static and for its architecture: faas
// itself (cgo, like this test binary) is not.
func TestAgentBinary(t *testing.T) {
	ctx, home := setup(t)
	self, _ := os.Executable()
	if f, err := elf.Open(self); err != nil || !hasInterp(f) {
		t.Skip("this test binary is not dynamically linked")
	}
	t.Setenv("FAAS_AGENT_BINARY", self)
	p, debug := newProvider(t, ctx, home)
	if err := p.CheckConfig(function.DefaultConfig()); err == nil || !strings.Contains(err.Error(), "is dynamically linked (cgo)") || !strings.Contains(fault.HintOf(err), "faas-agent") {
		t.Errorf("check with a cgo agent: %v (%s)", err, fault.HintOf(err))
	}
	if _, err := p.Launch(ctx, instance("dyn"), handler("dyn", pyHello, function.Python)); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("launch with a cgo agent: %v", err)
	}
	if strings.Contains(debug.String(), "launch") {
		t.Errorf("a VM was launched for an agent it cannot run:\n%s", debug)
	}

	static := os.Getenv("FAAS_AGENT_BINARY_STATIC")
	b, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	m := elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		m = elf.EM_X86_64
	}
	binary.LittleEndian.PutUint16(b[18:], uint16(m))
	other := filepath.Join(t.TempDir(), "faas-agent")
	if err := os.WriteFile(other, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := vmagent.Check(other); err == nil || !strings.Contains(err.Error(), "is a "+m.String()+" binary") {
		t.Errorf("an agent for another architecture: %v", err)
	}
	if err := vmagent.Check(static); err != nil {
		t.Errorf("the static agent: %v", err)
	}
	script := filepath.Join(t.TempDir(), "faas")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if err := vmagent.Check(script); err == nil || !strings.Contains(err.Error(), "not a Linux (ELF) binary") {
		t.Errorf("a script: %v", err)
	}
}

func hasInterp(f *elf.File) bool {
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}
