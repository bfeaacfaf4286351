package qemu

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/agentbuild"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/vmimage"
)

// fakeImage makes an image directory whose files QEMU stand-ins never
// read.
func fakeImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := vmimage.DefaultRecipe()
	im := filepath.Join(dir, r.Key())
	if err := os.MkdirAll(im, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{vmimage.KernelFile, vmimage.ModulesFile, vmimage.RootfsFile} {
		if err := os.WriteFile(filepath.Join(im, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(vmimage.Image{Key: r.Key(), Recipe: r, KernelVersion: "test"})
	if err := os.WriteFile(filepath.Join(im, vmimage.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var agentPath string

func testProvider(t *testing.T, qemu string) *Provider {
	t.Helper()
	if agentPath == "" {
		a, err := agentbuild.Build(os.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		agentPath = a
	}
	t.Setenv(AccelEnv, "tcg")
	home := t.TempDir()
	bin := t.TempDir()
	return &Provider{Home: home, Bin: script(t, bin, "qemu", qemu), QemuImg: script(t, bin, "qemu-img", "exit 0"),
		ImageDir: fakeImage(t), AgentBinary: agentPath, BootTimeout: time.Second}
}

func inv() (faastype.Instance, faastype.Invocation) {
	return faastype.Instance{ID: "qemu-fn-1", Function: "fn", Provider: Name},
		faastype.Invocation{Function: "fn", Filename: "fn.py", Code: []byte("print(1)\n"), SHA256: sha("print(1)\n"), Config: function.Config{Runtime: function.Python, CPUs: 1, MemoryMB: 128, DiskMB: 1024, Concurrency: 1}}
}

// A VM whose agent never answers is killed by its pid at the boot
// deadline, and leaves no directory: a launch never hangs.
func TestBootDeadlineKillsQEMU(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := testProvider(t, "echo $$ > "+pidFile+"; exec sleep 600")
	inst, in := inv()
	start := time.Now()
	_, err := p.Launch(context.Background(), inst, in)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 1s") {
		t.Fatalf("err = %v, want the boot deadline", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("the launch took %s", d)
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 || proc.Alive(pid, 0) && !zombie(pid) {
		t.Fatalf("QEMU (pid %d) still runs after the deadline", pid)
	}
	if _, err := os.Stat(p.dir(inst.ID)); !os.IsNotExist(err) {
		t.Fatalf("the instance's directory is left: %v", err)
	}
}

// A QEMU that exits at once fails the launch with its last line, at once.
func TestQEMUExitFailsLaunch(t *testing.T) {
	p := testProvider(t, "echo 'qemu-system-x86_64: -drive id=root: Could not open layer' >&2; exit 1")
	p.BootTimeout = time.Minute
	inst, in := inv()
	start := time.Now()
	_, err := p.Launch(context.Background(), inst, in)
	if err == nil || !strings.Contains(err.Error(), "Could not open layer") {
		t.Fatalf("err = %v, want QEMU's message", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("a QEMU that exited at once took %s to notice", d)
	}
	if _, err := os.Stat(p.dir(inst.ID)); !os.IsNotExist(err) {
		t.Fatalf("the instance's directory is left: %v", err)
	}
}

// The command line: the function's size, the layer, read-only shares,
// the restricted network with the loopback forward, no shell.
func TestArgs(t *testing.T) {
	p := &Provider{Home: "/h"}
	st := state{ID: "qemu-fn-1", CPUs: 2, MemoryMB: 384, Port: 40000, Accel: Accel{Name: "tcg"}}
	a := strings.Join(args(st, vmimage.Image{Dir: "/img"}, p.instanceSpec(st, 2445000)), " ")
	for _, want := range []string{
		"-M microvm -accel tcg,thread=multi -cpu max -m 384 -smp 2 ",
		"-kernel /img/vmlinux -initrd /h/run/qemu/qemu-fn-1/initrd.cpio",
		"tsc_early_khz=2445000",
		"file=/h/run/qemu/qemu-fn-1/layer.qcow2,format=qcow2",
		"path=/h/run/qemu/qemu-fn-1/share/code,security_model=none,readonly=on",
		"path=/h/run/qemu/qemu-fn-1/share/envs,security_model=none,readonly=on",
		"user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40000-10.0.2.15:8377",
	} {
		if !strings.Contains(a, want) {
			t.Errorf("args lack %q:\n%s", want, a)
		}
	}
	st.Accel = Accel{Name: "kvm"}
	a = strings.Join(args(st, vmimage.Image{Dir: "/img"}, p.instanceSpec(st, 2445000)), " ")
	if !strings.Contains(a, "-accel kvm -cpu host") || strings.Contains(a, "tsc_early_khz") {
		t.Errorf("KVM args: %s", a)
	}
}

func TestVMMemory(t *testing.T) {
	for _, c := range []struct {
		mem  int64
		conc int
		want int64
	}{{128, 1, 256}, {256, 1, 384}, {256, 4, 1152}, {64, 0, 256}} {
		if got := vmMemory(c.mem, c.conc); got != c.want {
			t.Errorf("vmMemory(%d, %d) = %d, want %d", c.mem, c.conc, got, c.want)
		}
	}
}
