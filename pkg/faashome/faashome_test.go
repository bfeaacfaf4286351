package faashome

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	t.Setenv("FAAS_HOME", "")
	t.Setenv("XDG_DATA_HOME", "/x")
	if h, _ := Resolve(); h != "/x/faas" {
		t.Errorf("Resolve() = %q", h)
	}
	t.Setenv("FAAS_HOME", "/y")
	if h, _ := Resolve(); h != "/y" {
		t.Errorf("Resolve() = %q", h)
	}
}

func TestLockIsExclusive(t *testing.T) {
	path := t.TempDir() + "/run/x.lock"
	f, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path); err != ErrLocked {
		t.Fatalf("second Lock: %v, want ErrLocked", err)
	}
	f.Close()
	g, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	g.Close()
}

func TestWriteJSONRoundTrip(t *testing.T) {
	path := t.TempDir() + "/run/serve.json"
	in := Server{PIDFile: Self(), Addr: "127.0.0.1:1"}
	if err := WriteJSON(path, in); err != nil {
		t.Fatal(err)
	}
	var out Server
	if err := ReadJSON(path, &out); err != nil || out.PID != in.PID || out.PIDStart != in.PIDStart || out.Addr != in.Addr || !out.Alive() {
		t.Fatalf("read back %+v, %v", out, err)
	}
}

// TestLockWait: a second taker waits for the first, and gives up when its
// context ends.
func TestLockWait(t *testing.T) {
	path := t.TempDir() + "/envs/k.lock"
	f, err := LockWait(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := LockWait(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockWait while held: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		g, err := LockWait(context.Background(), path)
		if err == nil {
			g.Close()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	f.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LockWait did not take the released lock")
	}
}

// TestLinkOrCopy: dst becomes src (a link, or across file systems a copy
// with src's mode), and a dst that exists is never replaced.
func TestLinkOrCopy(t *testing.T) {
	dir := t.TempDir()
	srcs := []string{dir}
	if other, err := os.MkdirTemp("/dev/shm", "faas-test-"); err == nil {
		defer os.RemoveAll(other)
		srcs = append(srcs, other) // another file system: the copy
	}
	for i, sdir := range srcs {
		src := filepath.Join(sdir, "src.py")
		if err := os.WriteFile(src, []byte("code"), 0o555); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, fmt.Sprintf("dst%d.py", i))
		if err := LinkOrCopy(src, dst); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dst)
		b, _ := os.ReadFile(dst)
		if err != nil || string(b) != "code" || fi.Mode().Perm() != 0o555 {
			t.Fatalf("dst %q, %v, %v; want src's bytes and mode", b, fi.Mode(), err)
		}
		if err := os.WriteFile(src+".2", []byte("other"), 0o555); err != nil {
			t.Fatal(err)
		}
		if err := LinkOrCopy(src+".2", dst); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("over an existing dst: %v, want fs.ErrExist", err)
		}
		if b, _ := os.ReadFile(dst); string(b) != "code" {
			t.Fatalf("dst became %q", b)
		}
	}
}
