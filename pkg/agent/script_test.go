package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/sandbox"
)

func newHost(t *testing.T, sb sandbox.Sandbox) *host {
	t.Helper()
	home := t.TempDir()
	r, err := sandbox.New(home)
	if err != nil {
		t.Fatal(err)
	}
	r.Sandbox = sb
	return &host{home: home, sb: r, interp: interp.New(home), uid: sandbox.UIDFor(t.Name())}
}

func invocation(name, filename, code string, mutate func(*function.Config)) faastype.Invocation {
	cfg := function.DefaultConfig()
	cfg.Runtime = function.RuntimeFromFile(filename)
	cfg.Mode = function.DetectMode(cfg.Runtime, []byte(code))
	if mutate != nil {
		mutate(&cfg)
	}
	return faastype.Invocation{
		JobID: "job" + strconv.FormatInt(time.Now().UnixNano(), 36), Function: name, Version: 1,
		SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(code))), Filename: filename, Code: []byte(code), Config: cfg,
	}
}

func sandboxes() map[string]sandbox.Sandbox {
	return map[string]sandbox.Sandbox{"detected": sandbox.DetectSandbox(), "rlimit": {Kind: sandbox.KindRlimit}}
}

func TestScriptResultAndLogsAreSeparate(t *testing.T) {
	for name, sb := range sandboxes() {
		t.Run(name, func(t *testing.T) {
			r := newHost(t, sb)
			inv := invocation("s", "s.sh", "echo to-log >&2; cat; printf ' done'", nil)
			inv.Payload = []byte("payload")
			out, err := r.runScript(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != faastype.Completed || string(out.Result) != "payload done" || string(out.Logs) != "to-log\n" {
				t.Fatalf("got %s result %q logs %q err %q", out.Status, out.Result, out.Logs, out.Error)
			}
			if out.ExitCode == nil || *out.ExitCode != 0 {
				t.Fatalf("exit code %v", out.ExitCode)
			}
			if out.Duration() <= 0 || out.PeakMemoryBytes <= 0 {
				t.Fatalf("duration %v peak %d", out.Duration(), out.PeakMemoryBytes)
			}
		})
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

func TestTimeoutKillsTheWholeGroup(t *testing.T) {
	for name, sb := range sandboxes() {
		t.Run(name, func(t *testing.T) {
			r := newHost(t, sb)
			// A background child with an argument no other process has.
			mark := strconv.FormatInt(time.Now().UnixNano()%1000000, 10) + ".5"
			inv := invocation("slow", "slow.sh", "sleep "+mark+" & sleep 60", nil)
			inv.Timeout = 300 * time.Millisecond
			out, err := r.runScript(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != faastype.TimedOut || !strings.Contains(out.Error, "killed after 300ms") {
				t.Fatalf("got %s %q", out.Status, out.Error)
			}
			if pids := running("sleep\x00" + mark); len(pids) > 0 {
				t.Fatalf("background child %v still alive", pids)
			}
		})
	}
}

// running lists the host's processes whose command line contains s
// (arguments separated by NULs).
func running(s string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(b), s) {
			out = append(out, pid)
		}
	}
	return out
}

func TestCancelInterrupts(t *testing.T) {
	r := newHost(t, sandbox.DetectSandbox())
	ctx, cancel := context.WithCancel(context.Background())
	inv := invocation("c", "c.sh", "echo started >&2; sleep 60", nil)
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	out, err := r.runScript(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Interrupted || out.Status != faastype.Failed || !strings.HasPrefix(out.Error, "interrupted") {
		t.Fatalf("got %+v", out)
	}
}

func TestEnvironmentIsOnlyWhatWasGiven(t *testing.T) {
	t.Setenv("FAAS_TEST_SECRET", "hunter2")
	r := newHost(t, sandbox.DetectSandbox())
	inv := invocation("e", "e.sh", "env", func(c *function.Config) { c.Env = map[string]string{"GIVEN": "yes"} })
	out, err := r.runScript(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	env := string(out.Result)
	if strings.Contains(env, "hunter2") {
		t.Fatalf("the caller's environment leaked:\n%s", env)
	}
	for _, want := range []string{"GIVEN=yes", "FAAS_FUNCTION=e", "FAAS_VERSION=1", "LANG=C.UTF-8", "FAAS_MEMORY_MB=256"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("missing %s in\n%s", want, env)
		}
	}
}

func TestLogsAreCappedWithMarker(t *testing.T) {
	r := newHost(t, sandbox.DetectSandbox())
	inv := invocation("l", "l.sh", "head -c 3000000 /dev/zero | tr '\\0' x >&2; echo ok", nil)
	out, err := r.runScript(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if !out.LogsTruncated || !strings.HasSuffix(string(out.Logs), "[faas: log truncated: 1951424 more bytes not kept]\n") {
		t.Fatalf("truncated=%v tail %q", out.LogsTruncated, out.Logs[max(0, len(out.Logs)-80):])
	}
	if string(out.Result) != "ok\n" || out.Status != faastype.Completed {
		t.Fatalf("got %s %q", out.Status, out.Result)
	}
}

func TestMissingInterpreterIsAPlatformError(t *testing.T) {
	r := newHost(t, sandbox.DetectSandbox())
	r.interp.LookPath = func(string) (string, error) { return "", errors.New("not found") }
	_, err := r.runScript(context.Background(), invocation("p", "p.py", "print(1)", nil))
	if err == nil || fault.KindOf(err) != fault.Platform || !strings.Contains(fault.HintOf(err), "FAAS_PYTHON") {
		t.Fatalf("got %v (hint %q)", err, fault.HintOf(err))
	}
}

func TestCappedWriter(t *testing.T) {
	c := NewCapped(5)
	for _, s := range []string{"ab", "cde", "fg", ""} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if string(c.buf) != "abcde" || c.dropped != 2 || !c.Overflowed() {
		t.Fatalf("buf %q dropped %d", c.buf, c.dropped)
	}
	if got := string(c.WithMarker()); got != "abcde\n[faas: log truncated: 2 more bytes not kept]\n" {
		t.Fatalf("marker %q", got)
	}
}

func TestJailName(t *testing.T) {
	for _, c := range [][3]string{
		{"hello.py", "/h/code/abc.py", "hello.py"},
		{"index.js", "/h/code/abc.mjs", "index.mjs"},
		{"dir/x.sh", "/h/code/abc.sh", "x.sh"},
		{"", "/h/code/abc.py", "abc.py"},
		{"a=b.py", "/h/code/abc.py", "abc.py"},
	} {
		if got := jailName(c[0], c[1]); got != c[2] {
			t.Errorf("jailName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

// TestRewrittenCodeIsRefused: a code file rewritten after it was checked
// (its size or time changed) is checked again, and refused.
func TestRewrittenCodeIsRefused(t *testing.T) {
	h := newHost(t, sandbox.DetectSandbox())
	inv := invocation("v", "v.sh", "echo deployed", nil)
	if _, err := h.runScript(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	path := codestore.Path(h.home, inv)
	if err := os.Chmod(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("echo owned, and longer"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := h.runScript(context.Background(), inv); err == nil || !strings.Contains(err.Error(), "not the version deployed") {
		t.Fatalf("rewritten code: %v", err)
	}
}
