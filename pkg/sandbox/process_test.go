package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the sandbox shim, as the faas binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SandboxArg {
		os.Exit(SandboxMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == pendingSignalHelper {
		os.Exit(signalPendingAcrossTheExec())
	}
	os.Exit(m.Run())
}

func TestDetectSandbox(t *testing.T) {
	touch := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("forced rlimit", func(t *testing.T) {
		if sb := detectSandbox(t.TempDir(), "rlimit"); sb.Kind != KindRlimit {
			t.Fatalf("got %+v", sb)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		if sb := detectSandbox(t.TempDir(), ""); sb.Kind != KindRlimit {
			t.Fatalf("got %+v", sb)
		}
	})
	t.Run("cgroup1", func(t *testing.T) {
		base := t.TempDir()
		touch(t, filepath.Join(base, "memory", "memory.limit_in_bytes"), "max")
		sb := detectSandbox(base, "")
		if sb.Kind != KindCgroup1 || sb.roots["memory"] != filepath.Join(base, "memory", "faas") {
			t.Fatalf("got %+v", sb)
		}
	})
	t.Run("cgroup2 without memory", func(t *testing.T) {
		base := t.TempDir()
		touch(t, filepath.Join(base, "cgroup.controllers"), "cpu io pids")
		if sb := detectSandbox(base, ""); sb.Kind != KindRlimit {
			t.Fatalf("got %+v", sb)
		}
	})
	t.Run("cgroup2", func(t *testing.T) {
		base := t.TempDir()
		touch(t, filepath.Join(base, "cgroup.controllers"), "cpu io memory pids")
		sb := detectSandbox(base, "")
		if sb.Kind != KindCgroup2 || sb.roots["unified"] != filepath.Join(base, "faas") {
			t.Fatalf("got %+v", sb)
		}
	})
}

func TestShimRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{{}, {"-cgroup"}, {"-data", "x", "--", "true"}, {"-what", "--", "true"}, {"--"}} {
		if code := SandboxMain(args); code != shimFailure {
			t.Errorf("SandboxMain(%q) = %d, want %d", args, code, shimFailure)
		}
	}
}

func TestExitFacts(t *testing.T) {
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(id string, argv ...string) Exit {
		t.Helper()
		p, err := r.Start(Spec{ID: id + strconv.FormatInt(time.Now().UnixNano(), 36), Argv: argv, MemoryMB: 64, CPUs: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Release()
		return p.Exit(p.Cmd.Wait())
	}
	if e := run("code", "/bin/sh", "-c", "exit 7"); e.Code == nil || *e.Code != 7 || e.Signal != "" || e.OOMKilled {
		t.Fatalf("exit 7: %+v", e)
	}
	if e := run("sig", "/bin/sh", "-c", "kill -9 $$"); e.Code != nil || !strings.Contains(e.Signal, "killed") {
		t.Fatalf("kill -9: %+v", e)
	}
}
