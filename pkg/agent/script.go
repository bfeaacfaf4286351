package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/egress"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/sandbox"
)

// host is what an agent runs functions with: the sandbox, the code and
// interpreters of its home, and the hub that also hears what they print.
type host struct {
	home   string
	sb     *sandbox.Runner
	interp *interp.Resolver
	logs   logSink
	// uid is the unprivileged host uid of this instance's jailed functions.
	uid int
	// share is FAAS_JAIL_SHARE: a host directory every jail gets,
	// writable, at its own path (tests, local debugging).
	share string
	// initTimeout bounds a warm worker's start-up (0: DefaultInitTimeout).
	initTimeout time.Duration
	// logf logs for the instance (egress refusals).
	logf func(string, ...any)
	// verified are the code files whose sha256 was checked: path → the
	// size and modification time they had then.
	verified sync.Map
}

// verify checks a code file against its sha256 once, and again only when
// the file has changed since (a script runs once per invocation: hashing
// its file every time would be work on the hot path for nothing).
func (h *host) verify(path, sum string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fault.Platformf("read function code: %w", err)
	}
	seen := fmt.Sprintf("%s %d %d", sum, fi.Size(), fi.ModTime().UnixNano())
	if v, ok := h.verified.Load(path); ok && v == seen {
		return nil
	}
	if err := codestore.Verify(path, sum); err != nil {
		return err
	}
	h.verified.Store(path, seen)
	return nil
}

// logSink receives a job's output as it is written, and the job's end.
type logSink interface {
	Write(jobID string, p []byte)
	End(jobID string)
}

// command is how one of inv's processes runs: its command line (with a
// worker's bootstrap before the code), its jail (nil where the host cannot
// jail) and its working directory. It writes the code first if needed.
type command struct {
	argv    []string
	jail    *sandbox.Jail
	workdir string
	// env is what the process gets beyond its function's environment.
	env []string
}

// started lets go of what the process took with it: the jail's end of
// its egress socket.
func (c command) started() {
	if c.jail != nil && c.jail.Egress != nil {
		c.jail.Egress.Close()
	}
}

func (h *host) command(id string, inv faastype.Invocation, bootstrap ...string) (command, error) {
	code, err := codestore.Write(h.home, inv)
	if err != nil {
		return command{}, err
	}
	if err := h.verify(code, inv.SHA256); err != nil {
		return command{}, err
	}
	// The interpreter the version was deployed with, where it was pinned
	// (the local provider); else this host's.
	prog, err := h.interp.Find(inv.Config.Runtime)
	if inv.Config.Interpreter != "" {
		prog, err = interp.Pinned(inv.Config.Runtime, inv.Config.Interpreter)
	}
	if err != nil {
		return command{}, err
	}
	c := command{workdir: faashome.JobDir(h.home, id)}
	tree := ""
	if inv.Tree {
		if tree, err = codestore.Unpack(h.home, inv); err != nil {
			return command{}, err
		}
		code = codestore.Entry(h.home, inv)
	}
	deps, depsEnv, err := h.deps(inv)
	if err != nil {
		return command{}, err
	}
	if h.sb.Sandbox.Jail {
		// In its jail the code is at /var/task, read-only; an interpreter
		// outside /usr (pyenv's) is bound at its own path, with its prefix.
		c.jail = &sandbox.Jail{UID: h.uid, TmpMB: inv.Config.Tmp()}
		jailed := sandbox.JailDir + "/" + jailName(inv.Filename, code)
		if tree != "" {
			jailed = path.Join(sandbox.JailDir, inv.Filename)
			c.jail.Mounts = append(c.jail.Mounts, sandbox.Mount{Source: tree, Target: sandbox.JailDir})
		} else {
			c.jail.Mounts = append(c.jail.Mounts, sandbox.Mount{Source: code, Target: jailed})
		}
		c.jail.Mounts = append(c.jail.Mounts, deps...)
		c.jail.Mounts = append(c.jail.Mounts, sandbox.ProgramMounts(prog)...)
		if len(inv.Config.Network) > 0 {
			if c.jail.Egress, err = egress.Start(inv.Config.Network, h.logf); err != nil {
				return command{}, fault.Platformf("egress proxy: %w", err)
			}
			c.env = egress.ProxyEnv()
		}
		if h.share != "" {
			c.jail.Mounts = append(c.jail.Mounts, sandbox.Mount{Source: h.share, Target: h.share, Writable: true})
		}
		code, c.workdir = jailed, sandbox.JailTmp
	}
	c.env = append(c.env, depsEnv...)
	c.argv = append(append([]string{}, bootstrap...), code)
	if prog != "" {
		c.argv = append([]string{prog}, c.argv...)
	}
	return c, nil
}

// runScript runs one script-mode invocation in a fresh process to its end:
// the payload on stdin, stdout the result, stderr the logs. It returns an
// error only when the platform failed.
func (h *host) runScript(ctx context.Context, inv faastype.Invocation) (faastype.Outcome, error) {
	p, err := newPipes()
	if err != nil {
		return faastype.Outcome{}, fault.Platformf("create pipes: %w", err)
	}
	defer p.closeAll()
	in, err := scriptInput(inv)
	if err != nil {
		return faastype.Outcome{}, err
	}
	// The command last: from here nothing returns before Start, which
	// takes what it holds (a jail's egress socket).
	c, err := h.command(inv.JobID, inv)
	if err != nil {
		return faastype.Outcome{}, err
	}
	timeout := inv.EffectiveTimeout()
	proc, err := h.sb.Start(sandbox.Spec{
		ID: inv.JobID, Argv: c.argv, Env: append(in.environ(inv, c.workdir, time.Now().Add(timeout)), c.env...), Jail: c.jail,
		MemoryMB: inv.Config.MemoryMB, CPUs: inv.Config.CPUs, Secrets: inv.Secrets,
		Stdin: p.stdinR, Stdout: p.stdoutW, Stderr: p.stderrW,
	})
	c.started()
	if err != nil {
		return faastype.Outcome{}, err
	}
	defer proc.Release()
	p.closeChildEnds()
	go p.feed(in.stdin)
	result, logs := NewCapped(faastype.ResultLimit+1), NewCapped(faastype.LogLimit)
	var logw io.Writer = logs
	if h.logs != nil {
		logw = tee{logs, inv.JobID, h.logs}
		defer h.logs.End(inv.JobID)
	}
	readers := []<-chan struct{}{drain(p.stdoutR, result), drain(p.stderrR, logw)}

	waited := make(chan error, 1)
	go func() { waited <- proc.Cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var timedOut, interrupted bool
	var waitErr error
	select {
	case waitErr = <-waited:
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
		interrupted = true
	}
	// The invocation is over when its main process ends: kill the whole
	// group and cgroup, including anything it left in the background.
	proc.Kill()
	if timedOut || interrupted {
		waitErr = <-waited
	}
	end := time.Now()
	// A process that left the group and the cgroup (setsid in the rlimit
	// sandbox) could hold the pipes open; do not wait for it forever.
	for _, done := range readers {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			p.closeAll()
			<-done
		}
	}
	exit := proc.Exit(waitErr)
	out := faastype.Outcome{
		StartedAt: proc.Started, EndedAt: end,
		Instance: fmt.Sprintf("pid-%d", proc.Pid()), Cold: true,
		PeakMemoryBytes: exit.PeakBytes,
		Interrupted:     interrupted,
		ExitCode:        exit.Code,
	}
	out.Logs, out.LogsTruncated = logs.WithMarker(), logs.Overflowed()
	if err := sandbox.ShimError(exit.Code, logs.buf); err != nil {
		return faastype.Outcome{}, err
	}
	out.Status, out.Error = faastype.Failed, ""
	switch {
	case cutShort(&out, timedOut, interrupted, timeout):
	case exit.OOMKilled:
		out.Error = oomError(inv.Config.MemoryMB)
	case exit.Code == nil:
		out.Error = "killed by " + exit.Signal
	case *exit.Code != 0:
		out.Error = fmt.Sprintf("exit status %d", *exit.Code)
	case len(result.buf) > faastype.ResultLimit:
		out.Error = fmt.Sprintf("result (stdout) is over the %d MiB limit", faastype.ResultLimit>>20)
	default:
		out.Status = faastype.Completed
	}
	// A failed script's stdout is kept on the record for debugging, but
	// never passed off as a result: invoke prints only completed results.
	out.Result = result.buf[:min(len(result.buf), faastype.ResultLimit)]
	return out, nil
}

// cutShort words an outcome that the timeout or the caller ended, in every
// mode alike, and reports whether one did.
func cutShort(out *faastype.Outcome, timedOut, interrupted bool, timeout time.Duration) bool {
	switch {
	case timedOut:
		out.Status, out.Error = faastype.TimedOut, timeoutError(timeout)
	case interrupted:
		out.Status, out.Error, out.Interrupted = faastype.Failed, faastype.InterruptedError, true
	default:
		return false
	}
	return true
}

// timeoutError says an invocation was killed at its timeout.
func timeoutError(d time.Duration) string {
	return fmt.Sprintf("killed after %s (the function's timeout)", d)
}

// oomError says the kernel killed the function for its memory limit.
func oomError(memoryMB int64) string {
	return fmt.Sprintf("killed: out of memory (limit %s)", function.FormatSize(memoryMB))
}

// pipes are a script's stdin, stdout and stderr.
type pipes struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
}

func newPipes() (*pipes, error) {
	p := &pipes{}
	var err error
	if p.stdinR, p.stdinW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.stdoutR, p.stdoutW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, err
	}
	if p.stderrR, p.stderrW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, err
	}
	return p, nil
}

func (p *pipes) feed(payload []byte) {
	// A function that never reads stdin gets EPIPE here; that is fine.
	_, _ = p.stdinW.Write(payload)
	p.stdinW.Close()
}

func (p *pipes) closeChildEnds() {
	for _, f := range []*os.File{p.stdinR, p.stdoutW, p.stderrW} {
		f.Close()
	}
}

func (p *pipes) closeAll() {
	for _, f := range []*os.File{p.stdinR, p.stdinW, p.stdoutR, p.stdoutW, p.stderrR, p.stderrW} {
		if f != nil {
			f.Close()
		}
	}
}

// jailShare is FAAS_JAIL_SHARE when it names an absolute, existing
// directory. It is the operator's, never a function's: the agent reads it
// from its own environment, which no function sets.
func jailShare() string {
	d := os.Getenv("FAAS_JAIL_SHARE")
	if fi, err := os.Stat(d); d == "" || !filepath.IsAbs(d) || err != nil || !fi.IsDir() {
		return ""
	}
	return filepath.Clean(d)
}

// jailName is the code's file name in its jail: the user's own (so that
// tracebacks name hello.py, not a sha256), with the extension the code is
// stored under (which tells Node a CommonJS file from an ES module); the
// stored name when the user's is not a plain file name.
func jailName(userFile, stored string) string {
	base := strings.TrimSuffix(filepath.Base(userFile), filepath.Ext(userFile))
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, "/=\x00") {
		return filepath.Base(stored)
	}
	return base + filepath.Ext(stored)
}
