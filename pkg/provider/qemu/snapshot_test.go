package qemu

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/vmimage"
)

// A snapshot restores only into what it was made from: its key changes
// with each of those, and not with how it was made.
func TestSnapshotKey(t *testing.T) {
	base := snapshot{Version: snapVersion, Image: "img", QEMU: "q 1 2", Agent: "abc", Runtime: "python", Warm: warmCommand("python"),
		CPUs: 1, MemoryMB: 256, Disk: "2G", Accel: "tcg"}
	k := base.key()
	made := base
	made.Cmdline, made.Created, made.BootMS, made.SaveMS, made.StateBytes = "console=ttyS0", time.Now(), 1, 2, 3
	if made.key() != k {
		t.Errorf("the key changed with how the snapshot was made")
	}
	for name, change := range map[string]func(*snapshot){
		"image": func(s *snapshot) { s.Image = "other" }, "qemu": func(s *snapshot) { s.QEMU = "q 1 3" },
		"agent": func(s *snapshot) { s.Agent = "abd" }, "runtime": func(s *snapshot) { s.Runtime = "node" },
		"cpus": func(s *snapshot) { s.CPUs = 2 }, "memory": func(s *snapshot) { s.MemoryMB = 384 },
		"disk": func(s *snapshot) { s.Disk = "4096M" }, "accel": func(s *snapshot) { s.Accel = "kvm" },
	} {
		s := base
		change(&s)
		if s.key() == k {
			t.Errorf("the key does not change with the %s", name)
		}
	}
	if warmCommand("python")[0] != "/usr/bin/python3" || warmCommand("node")[0] != "/usr/bin/node" || warmCommand("bash") != nil {
		t.Errorf("warm commands: %q %q %q", warmCommand("python"), warmCommand("node"), warmCommand("bash"))
	}
}

func readLog(t *testing.T, p *Provider, id string) string {
	t.Helper()
	b, _ := os.ReadFile(faashome.Log(p.Home, id))
	return string(b)
}

// A snapshot's VM that never says it is ready is killed, leaves nothing
// in the image's snapshots (but its lock), and the instance boots.
func TestFailedSnapshotLeavesNothing(t *testing.T) {
	p := testProvider(t, "exec sleep 600")
	inst, in := inv()
	if _, err := p.Launch(context.Background(), inst, in); err == nil {
		t.Fatal("a VM that never answers launched")
	}
	log := readLog(t, p, inst.ID)
	for _, want := range []string{"making snapshot", "could not make snapshot", "booting qemu-fn-1"} {
		if !strings.Contains(log, want) {
			t.Errorf("the instance's log lacks %q:\n%s", want, log)
		}
	}
	im, err := vmimage.Current(p.ImageDir)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(im.Dir, snapDir))
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".lock-") {
			t.Errorf("a failed snapshot left %s", e.Name())
		}
	}
}

// A snapshot QEMU cannot load is discarded, said in the instance's log,
// and the instance boots instead.
func TestBrokenSnapshotIsDiscarded(t *testing.T) {
	p := testProvider(t, `case "$*" in *-incoming*) echo "qemu-system-x86_64: load of migration failed: Input/output error" >&2; exit 1;; esac; exec sleep 600`)
	inst, in := inv()
	im, err := vmimage.Current(p.ImageDir)
	if err != nil {
		t.Fatal(err)
	}
	st := state{Image: im.Key, CPUs: 1, MemoryMB: vmMemory(128, 1), DiskMB: 1024, Accel: Accel{Name: "tcg"}}
	want, err := p.snapshotFor(st, agentPath, "python")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(im.Dir, snapDir, want.key())
	for _, f := range []string{snapState, layerFile, initrdFile} {
		if err := faashome.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := faashome.WriteJSON(filepath.Join(dir, snapManifest), want); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Launch(context.Background(), inst, in); err == nil {
		t.Fatal("a VM that never answers launched")
	}
	log := readLog(t, p, inst.ID)
	for _, want := range []string{"restoring qemu-fn-1 from snapshot " + want.key(), "did not restore (qemu exited: qemu-system-x86_64: load of migration failed: Input/output error): discarded; booting instead", "booting qemu-fn-1"} {
		if !strings.Contains(log, want) {
			t.Errorf("the instance's log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the broken snapshot is still there: %v", err)
	}
}
