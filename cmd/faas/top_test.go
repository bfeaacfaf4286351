package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/faasdev/faas/internal/scripttest"
)

// faasCmd runs this test binary as faas (testscript.Main dispatches on the
// program name).
func faasCmd(t *testing.T, home string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Args[0] = "faas"
	cmd.Env = append(os.Environ(), "FAAS_HOME="+home, "TERM=screen-256color", "NO_COLOR=") // screen: no OSC colour query (which a pty never answers)
	return cmd
}

// TestTopTUI runs the live view under a pseudo-terminal, reads the screen,
// presses q, and checks the rows and a clean exit.
func TestTopTUI(t *testing.T) {
	home := t.TempDir()
	t.Cleanup(func() { scripttest.StopAgents(home) })
	fn := filepath.Join(t.TempDir(), "topfn.py")
	if err := os.WriteFile(fn, []byte("def handler(event, context):\n    return 'hi'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"deploy", fn}, {"invoke", "topfn"}} {
		if out, err := faasCmd(t, home, args...).CombinedOutput(); err != nil {
			t.Fatalf("faas %v: %v\n%s", args, err, out)
		}
	}
	cmd := faasCmd(t, home, "top", "--interval", "200ms")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 180})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	want := []string{"faas top", "INSTANCE", "local-topfn-1", "ready", "FUNCTION", "topfn", "q quit"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		s := screen.String()
		mu.Unlock()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q:\n%q", missing, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := tty.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("faas top after q: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("faas top did not quit on q")
	}
}
