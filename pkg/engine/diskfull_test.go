package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// TestFullDiskLosesNoJob fills the disk that holds FAAS_HOME (a small
// tmpfs) and invokes: the call fails as a platform error or its job is
// recorded and finished; no job is left running, reads keep working, and
// once there is room again everything works.
func TestFullDiskLosesNoJob(t *testing.T) {
	home := t.TempDir()
	if err := syscall.Mount("faas-test", home, "tmpfs", 0, "size=24m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	defer syscall.Unmount(home, syscall.MNT_DETACH)
	ctx := context.Background()
	e := withHello(t, home, "def handler(event, context):\n    return 'ok'\n")
	if j, err := e.Invoke(ctx, engine.InvokeRequest{Name: "hello"}); err != nil || j.Status != store.StatusCompleted {
		t.Fatalf("before the disk is full: %+v %v", j, err)
	}
	// Fill it.
	ballast := filepath.Join(home, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	failed := 0
	for i := range 5 {
		j, err := e.Invoke(ctx, engine.InvokeRequest{Name: "hello", Payload: []byte(`{"i":` + string(rune('0'+i)) + `}`)})
		if err != nil {
			failed++
		}
		if err != nil && fault.KindOf(err) != fault.Platform {
			t.Fatalf("invoke on a full disk: %v, want a platform error", err)
		}
		if err == nil && j.Status != store.StatusCompleted {
			t.Fatalf("invoke on a full disk: %+v", j)
		}
	}
	t.Logf("%d of 5 invokes on a full disk failed (platform errors); the rest completed", failed)
	jobs, err := e.Jobs(ctx, store.JobFilter{})
	if err != nil {
		t.Fatalf("reading jobs on a full disk: %v", err)
	}
	for _, j := range jobs {
		if j.Status == store.StatusRunning {
			t.Errorf("job %s left running on a full disk", j.ID)
		}
	}
	os.Remove(ballast)
	if j, err := e.Invoke(ctx, engine.InvokeRequest{Name: "hello"}); err != nil || j.Status != store.StatusCompleted {
		t.Fatalf("with room again: %+v %v", j, err)
	}
}
