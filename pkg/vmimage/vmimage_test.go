package vmimage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCPIOReadsBack(t *testing.T) {
	cpio, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("no cpio to read the archive back")
	}
	var b bytes.Buffer
	c := NewCPIO(&b)
	c.Dir("faas", 0o755)
	c.File("faas/a.txt", 0o600, 5, strings.NewReader("hello"))
	c.File("init", 0o755, 3, strings.NewReader("odd"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if b.Len()%4 != 0 {
		t.Fatalf("archive of %d bytes is not 4-aligned", b.Len())
	}
	dir := t.TempDir()
	cmd := exec.Command(cpio, "-idm", "--quiet")
	cmd.Dir, cmd.Stdin = dir, &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio: %v: %s", err, out)
	}
	for name, want := range map[string]string{"faas/a.txt": "hello", "init": "odd"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "init")); fi.Mode().Perm() != 0o755 {
		t.Fatalf("init has mode %v", fi.Mode())
	}
}

func TestRecipeKey(t *testing.T) {
	r := DefaultRecipe()
	if k := r.Key(); !keyRE.MatchString(k) || k != DefaultRecipe().Key() {
		t.Fatalf("key %q is not stable hex", k)
	}
	r.Packages = append(r.Packages, "git")
	if r.Key() == DefaultRecipe().Key() {
		t.Fatal("another recipe has the same key")
	}
}

// fakeTools puts stand-ins for the build tools first on PATH: mmdebstrap
// runs the given script.
func fakeTools(t *testing.T, mmdebstrap string) {
	t.Helper()
	bin := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("mmdebstrap", mmdebstrap)
	write("mkfs.ext4", "exit 0")
	write("xz", "exit 0")
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
}

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestFailedBuildLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a build needs root")
	}
	fakeTools(t, `echo "E: cannot reach the archive" >&2; exit 1`)
	dir := t.TempDir()
	_, _, err := Build(context.Background(), dir, DefaultRecipe(), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the archive") {
		t.Fatalf("err = %v, want mmdebstrap's message", err)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("a failed build left %v", l)
	}
}

func TestInterruptedBuildLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a build needs root")
	}
	// The stand-in writes into its target, says so, then waits to be
	// interrupted (SIGTERM ends sleep and it).
	fakeTools(t, `for a; do t=$a; done; mkdir -p "$t/x" || exit 1; echo started; exec sleep 60`)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, _ := os.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, err := Build(ctx, dir, DefaultRecipe(), pw)
		done <- err
	}()
	buf := make([]byte, 4096)
	var seen string
	for !strings.Contains(seen, "  started") {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		seen += string(buf[:n])
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("err = %v, want interrupted", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an interrupted build did not end")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("an interrupted build left %v", l)
	}
}
