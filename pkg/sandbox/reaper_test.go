//go:build cgo

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// reaperScript waits until PID 1 of its jail is the C reaper, leaves an
// orphan (a double fork) and waits until the reaper has reaped it, tries
// to reach the executable its init runs (which must not: the reaper's
// command line is never the function's to run), then says "ready" and
// runs until a signal: SIGUSR1 ends it with status 7,
// SIGTERM kills it. Every wait is bounded (15 s and more).
const reaperScript = `n=0; while :; do
  case "$(tr '\0' ' ' </proc/1/cmdline)" in "faas __faas-sandbox -reap "*) break;; esac
  n=$((n+1)); [ $n -gt 1500 ] && { echo "init: $(tr '\0' ' ' </proc/1/cmdline | head -c 60)"; exit 9; }; sleep 0.01; done
( sh -c 'echo $$ >/tmp/orphan' & )
n=0; until [ -s /tmp/orphan ]; do n=$((n+1)); [ $n -gt 1500 ] && exit 10; sleep 0.01; done
o=$(cat /tmp/orphan); n=0
while [ -e /proc/$o ] && [ $n -lt 1500 ]; do n=$((n+1)); sleep 0.01; done
if [ -e /proc/$o ]; then echo "orphan $o: $(grep State /proc/$o/status)"; else echo reaped; fi
readlink /proc/1/exe 2>/dev/null && echo "sees its init's executable"
/proc/1/exe version 2>/dev/null && echo "ran its init's executable"
ls /proc/1/fd 2>/dev/null && echo "sees its init's fds"
[ -e "$FAAS_BIN" ] && echo "sees the faas binary"
trap 'exit 7' USR1
echo ready
while :; do sleep 60 & wait $!; done`

// startReaperScript starts reaperScript in a jail and reads its stdout
// up to "ready".
func startReaperScript(t *testing.T) (*Proc, []string) {
	t.Helper()
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sandbox.Jail {
		t.Skip("this host cannot jail: " + r.Sandbox.JailWhy)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, _ := os.Pipe()
	p, err := r.Start(Spec{ID: "r" + strconv.FormatInt(time.Now().UnixNano(), 36), Argv: []string{"/bin/sh", "-c", reaperScript},
		MemoryMB: 256, CPUs: 1, Stdout: outW, Stderr: os.Stderr, Jail: &Jail{UID: UIDFor(t.Name()), TmpMB: 8},
		Env: []string{"PATH=/usr/bin:/bin", "FAAS_BIN=" + exe}})
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outR.Close(); p.Kill(); p.Release() })
	var lines []string
	sc := bufio.NewScanner(outR)
	for sc.Scan() && sc.Text() != "ready" {
		lines = append(lines, sc.Text())
	}
	if !slices.Equal(lines, []string{"reaped"}) {
		p.Kill()
		e := p.Exit(p.Cmd.Wait())
		t.Fatalf("the function said %q before ready (exit %+v), want [reaped]", lines, e)
	}
	return p, lines
}

// TestJailInitIsTheCReaper checks that a jail without egress has the C
// reaper for PID 1 (one thread, no Go runtime, a little memory, no fd but
// its stdio and status pipe), that it reaps an orphan of the function and
// forwards a signal to it, and reports its end as the Go init did.
func TestJailInitIsTheCReaper(t *testing.T) {
	p, _ := startReaperScript(t)
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.Pid()), "status"))
	if err != nil {
		t.Fatal(err)
	}
	var rssKB int
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Threads":
			if v != "1" {
				t.Errorf("the init has %s threads, want 1 (no Go runtime)", v)
			}
		case "VmRSS":
			rssKB, _ = strconv.Atoi(strings.TrimSuffix(v, " kB"))
		}
	}
	// The Go init settled at 12-14 MiB after shedding; the reaper is the
	// C library's pages and a few of the binary's.
	t.Logf("the init's RSS: %d KiB", rssKB)
	if rssKB == 0 || rssKB > 6*1024 {
		t.Errorf("the init's RSS is %d KiB, want at most 6 MiB", rssKB)
	}
	fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(p.Pid()), "fd"))
	if len(fds) != 4 {
		t.Errorf("the init holds %d fds, want its 3 stdio and the status pipe", len(fds))
	}
	if err := syscall.Kill(p.Pid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if e := p.Exit(p.Cmd.Wait()); e.Code == nil || *e.Code != 7 {
		t.Fatalf("exit %+v, want 7 (the function's trap of the SIGUSR1 its init forwarded)", e)
	}
}

// TestCReaperReportsASignal checks that a function killed by a signal the
// reaper forwarded is reported as killed by it.
func TestCReaperReportsASignal(t *testing.T) {
	p, _ := startReaperScript(t)
	if err := syscall.Kill(p.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if e := p.Exit(p.Cmd.Wait()); e.Code != nil || e.Signal != "signal "+syscall.SIGTERM.String() {
		t.Fatalf("exit %+v, want killed by SIGTERM", e)
	}
}

// TestCReaperRefusesOtherwise checks that the reaper's command line is
// the C reaper's only in PID 1 of a namespace: run anywhere else, it
// reaches the shim, which refuses it.
func TestCReaperRefusesOtherwise(t *testing.T) {
	out, err := exec.Command(os.Args[0], SandboxArg, "-reap", "2", "3").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != shimFailure || !strings.Contains(string(out), `unknown argument "-reap"`) {
		t.Fatalf("%v: %s; want the shim's refusal", err, out)
	}
}

// TestJailForwardsSignalsAcrossTheExec signals a jail's init as soon as its
// function runs, while the init may still be Go, be execing, or be the C
// reaper already: the function gets the signal every time.
func TestJailForwardsSignalsAcrossTheExec(t *testing.T) {
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sandbox.Jail {
		t.Skip("this host cannot jail: " + r.Sandbox.JailWhy)
	}
	for i := range 20 {
		outR, outW, _ := os.Pipe()
		p, err := r.Start(Spec{ID: "s" + strconv.FormatInt(time.Now().UnixNano(), 36), MemoryMB: 256, CPUs: 1,
			Argv:   []string{"/bin/sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 60 & wait $!; done"},
			Stdout: outW, Stderr: os.Stderr, Jail: &Jail{UID: UIDFor(t.Name()), TmpMB: 8}, Env: []string{"PATH=/usr/bin:/bin"}})
		outW.Close()
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(outR).ReadString('\n')
		outR.Close()
		if line != "ready\n" {
			p.Kill()
		} else if err := syscall.Kill(p.Pid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		e := p.Exit(p.Cmd.Wait())
		p.Release()
		if e.Code == nil || *e.Code != 7 {
			t.Fatalf("run %d: said %q, exit %+v, want 7 (the function's trap of the SIGUSR1 its init forwarded)", i, line, e)
		}
	}
}

const pendingSignalHelper = "pending-signal-helper"

// signalPendingAcrossTheExec is PID 1 of a new PID namespace: it starts a
// function that exits 7 on SIGUSR1, gets a SIGUSR1 of its own while it
// blocks it (as rj_exec blocks them), and becomes the C reaper, which must
// forward it once its handler is in place: the signal was caught before
// the exec and delivered after it.
func signalPendingAcrossTheExec() int {
	runtime.LockOSThread()
	r, w, _ := os.Pipe()
	child, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 60 & wait $!; done"},
		&os.ProcAttr{Files: []*os.File{nil, w, os.Stderr}})
	if err != nil {
		return 90
	}
	w.Close()
	if line, _ := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
		return 91
	}
	set := uint64(1) << (syscall.SIGUSR1 - 1)
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 0 /* SIG_BLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0); e != 0 {
		return 92
	}
	if syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGUSR1) != nil {
		return 93
	}
	_ = becomeReaper(child.Pid, 3)
	return 94
}

// TestCReaperDeliversWhatWasPending checks that a signal that arrived
// while the Go init was on its way to the reaper is not lost: see
// signalPendingAcrossTheExec.
func TestCReaperDeliversWhatWasPending(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a new PID namespace takes root")
	}
	statusR, statusW, _ := os.Pipe()
	defer statusR.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], pendingSignalHelper)
	cmd.ExtraFiles = []*os.File{statusW}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	err := cmd.Run()
	statusW.Close()
	status, _ := io.ReadAll(statusR)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 || string(status) != "exit 7\n" {
		t.Fatalf("%v, status %q; want exit 7 (the function's trap of the pending SIGUSR1)", err, status)
	}
}

// TestJailWithEgressKeepsTheGoInit checks that a jail whose init forwards
// egress keeps the Go init (its goroutines accept the connections), which
// still reports its function's end after it shed (initShedDelay).
func TestJailWithEgressKeepsTheGoInit(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "egress"), os.NewFile(uintptr(fds[1]), "egress")
	defer ours.Close()
	wait := strconv.FormatFloat((initShedDelay + 500*time.Millisecond).Seconds(), 'f', 1, 64)
	script := `sleep ` + wait + `; echo "init: $(tr '\0' ' ' </proc/1/cmdline | head -c 26)"; exit 3`
	e, out, serr := runJailed(t, &Jail{UID: UIDFor(t.Name()), TmpMB: 8, Egress: theirs}, "/bin/sh", "-c", script)
	theirs.Close()
	if e.Code == nil || *e.Code != 3 {
		t.Fatalf("exit %+v (signal %q), want 3; stderr %s", e, e.Signal, serr)
	}
	if !strings.HasPrefix(out, "init: faas __faas-sandbox -") || strings.HasPrefix(out, "init: faas __faas-sandbox -reap") {
		t.Errorf("said %q; want the Go init (not -reap) for PID 1", out)
	}
}
