package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runJailed runs argv in a jail and returns its exit facts, stdout and
// stderr.
func runJailed(t *testing.T, j *Jail, argv ...string) (Exit, string, string) {
	t.Helper()
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sandbox.Jail {
		t.Skip("this host cannot jail: " + r.Sandbox.JailWhy)
	}
	if j == nil {
		j = &Jail{UID: UIDFor(t.Name()), TmpMB: 8}
	}
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	p, err := r.Start(Spec{ID: "j" + strconv.FormatInt(time.Now().UnixNano(), 36), Argv: argv, MemoryMB: 256, CPUs: 1,
		Stdout: outW, Stderr: errW, Jail: j, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	var out, serr bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = out.ReadFrom(outR); close(done) }()
	_, _ = serr.ReadFrom(errR)
	<-done
	werr := p.Cmd.Wait()
	e := p.Exit(werr)
	p.Release()
	return e, out.String(), serr.String()
}

// TestJailConfines runs a shell in a jail and checks what it is: an
// unprivileged uid with no capabilities and no_new_privs under seccomp,
// not PID 1 of its own namespace (its init is), a root of /usr's links and
// the jail's own directories only, a status that carries its exit code,
// and a seccomp filter that refuses a new namespace.
func TestJailConfines(t *testing.T) {
	script := `id -u; echo pid=$$; ls /; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status
if command -v unshare >/dev/null; then unshare -U true 2>&1 | tail -1; else echo no-unshare; fi
exit 3`
	e, out, serr := runJailed(t, nil, "/bin/sh", "-c", script)
	if e.Code == nil || *e.Code != 3 {
		t.Fatalf("exit %+v, stderr %s", e, serr)
	}
	for _, want := range []string{"\nCapEff:\t0000000000000000\n", "\nNoNewPrivs:\t1\n", "\nSeccomp:\t2\n",
		"\nbin\ndev\netc\nlib\nlib64\nproc\nsbin\ntmp\nusr\n"} {
		if !strings.Contains("\n"+out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no-unshare") {
		t.Log("no unshare(1) on this host: the seccomp refusal is checked by jail.txtar")
	} else if !strings.Contains(out, "Operation not permitted\n") {
		t.Errorf("unshare -U was not refused:\n%s", out)
	}
	if uid, _, _ := strings.Cut(out, "\n"); uid == "0" || !strings.HasPrefix(uid, "2") {
		t.Errorf("uid %s, want one of 200000-265535", uid)
	}
	if strings.Contains(out, "pid=1\n") {
		t.Errorf("the function is PID 1; its init should be:\n%s", out)
	}
}

// TestJailInitAfterShed checks that a jail's init still reports its
// function's end after it shed its start-up memory (initShedDelay).
func TestJailInitAfterShed(t *testing.T) {
	e, _, serr := runJailed(t, nil, "/bin/sh", "-c", "sleep "+strconv.FormatFloat((initShedDelay+500*time.Millisecond).Seconds(), 'f', 1, 64)+"; exit 3")
	if e.Code == nil || *e.Code != 3 {
		t.Fatalf("exit %+v (signal %q), want 3; stderr %s", e, e.Signal, serr)
	}
}

// TestJailWhateverTheUmask starts a jail from a process whose umask is
// narrow (as an agent's is while it creates a socket): the function's
// uid still reaches and runs a program bound below directories the jail
// made (as pyenv's prefix is, under /root).
func TestJailWhateverTheUmask(t *testing.T) {
	j := &Jail{UID: UIDFor(t.Name()), TmpMB: 8, Mounts: []Mount{{Source: "/usr/bin", Target: "/opt/faas-test/bin"}}}
	old := syscall.Umask(0o177)
	e, _, serr := runJailed(t, j, "/opt/faas-test/bin/sh", "-c", "exit 3")
	syscall.Umask(old)
	if e.Code == nil || *e.Code != 3 {
		t.Fatalf("exit %+v, want 3; stderr %s", e, serr)
	}
}
