// Package sandbox starts a function's processes on this machine, confined:
// in their own process group, in cgroups where they are writable and under
// rlimits otherwise, with only the environment they were given. It runs
// script-mode invocations to their end, and starts the long-lived processes
// the agent keeps warm.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// payloadEnvLimit is the largest payload also passed in FAAS_PAYLOAD.
const payloadEnvLimit = 32 << 10

// Runner starts sandboxed processes.
type Runner struct {
	// Home is FAAS_HOME: code is cached under code/, processes run in
	// run/jobs/<id>.
	Home string
	// Self is the faas executable, used as the sandbox shim.
	Self string
	// LookPath finds interpreters; it is exec.LookPath outside tests.
	LookPath func(string) (string, error)
	Sandbox  Sandbox
	// Logs, when set, also receives what functions print, as they print
	// it (the agent streams it to followers).
	Logs LogSink
}

// LogSink receives a job's output as it is written, and the job's end.
type LogSink interface {
	Write(jobID string, p []byte)
	End(jobID string)
}

// New returns a runner for home with the host's sandbox.
func New(home string) (*Runner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fault.Platformf("find the faas executable: %w", err)
	}
	return &Runner{Home: home, Self: self, LookPath: exec.LookPath, Sandbox: DetectSandbox()}, nil
}

// Interpreter returns the program that runs rt ("" for executables),
// honouring FAAS_PYTHON, FAAS_NODE and FAAS_BASH.
func (r *Runner) Interpreter(rt function.Runtime) (string, error) {
	var env, prog string
	switch rt {
	case function.Python:
		env, prog = "FAAS_PYTHON", "python3"
	case function.Node:
		env, prog = "FAAS_NODE", "node"
	case function.Bash:
		env, prog = "FAAS_BASH", "bash"
	default:
		return "", nil
	}
	if p := os.Getenv(env); p != "" {
		prog = p
	}
	path, err := r.LookPath(prog)
	if err != nil {
		return "", fault.WithHint(fault.Platformf("the %s runtime needs %s, which was not found", rt, prog),
			fmt.Sprintf("install %s or point %s at it", prog, env))
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return r.resolveLauncher(rt, path), nil
}

// CodePath is where a version's code lives on disk: named by its sha256, so
// concurrent writers agree, with the extension that tells the runtime how to
// load it.
func (r *Runner) CodePath(inv faastype.Invocation) string {
	return filepath.Join(r.Home, "code", CodeName(inv))
}

// CodeName is the file name of a version's code: inv.CodeName when set,
// else derived from the code.
func CodeName(inv faastype.Invocation) string {
	if inv.CodeName != "" {
		return filepath.Base(inv.CodeName)
	}
	ext := filepath.Ext(inv.Filename)
	if inv.Config.Runtime == function.Node {
		ext = ".cjs"
		if function.IsESModule(inv.Code) {
			ext = ".mjs"
		}
	}
	return inv.SHA256 + ext
}

// WriteCode writes a version's code once and returns its path.
func (r *Runner) WriteCode(inv faastype.Invocation) (string, error) {
	path := r.CodePath(inv)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if len(inv.Code) == 0 {
		return "", fault.Platformf("the code of %s v%d is not on disk (%s)", inv.Function, inv.Version, path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fault.Platformf("write function code: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fault.Platformf("write function code: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(inv.Code)
	if err == nil {
		err = tmp.Chmod(0o700)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fault.Platformf("write function code: %w", err)
	}
	return path, nil
}

// Environ is everything a function's process sees: what it was given and
// what faas sets, never the caller's environment. jobID and payload may be
// empty for a warm worker, which learns them per invocation.
func Environ(inv faastype.Invocation, workdir string, deadline time.Time) []string {
	cfg := inv.Config
	env := map[string]string{
		"PATH":            "/usr/local/bin:/usr/bin:/bin",
		"HOME":            workdir,
		"TMPDIR":          workdir,
		"LANG":            "C.UTF-8",
		"FAAS_FUNCTION":   inv.Function,
		"FAAS_VERSION":    strconv.Itoa(inv.Version),
		"FAAS_RUNTIME":    string(cfg.Runtime),
		"FAAS_MODE":       string(cfg.Mode),
		"FAAS_MEMORY_MB":  strconv.FormatInt(cfg.MemoryMB, 10),
		"FAAS_TIMEOUT_MS": strconv.FormatInt(inv.EffectiveTimeout().Milliseconds(), 10),
	}
	if inv.JobID != "" {
		env["FAAS_JOB_ID"] = inv.JobID
		env["FAAS_DEADLINE_MS"] = strconv.FormatInt(deadline.UnixMilli(), 10)
	}
	if cfg.Runtime == function.Python {
		env["PYTHONUNBUFFERED"] = "1"
		env["PYTHONDONTWRITEBYTECODE"] = "1"
	}
	if inv.JobID != "" && len(inv.Payload) <= payloadEnvLimit && utf8.Valid(inv.Payload) && bytes.IndexByte(inv.Payload, 0) < 0 {
		env["FAAS_PAYLOAD"] = string(inv.Payload)
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	return function.EnvList(env)
}

// Spec describes a process to start.
type Spec struct {
	// ID names the process' cgroups and working directory.
	ID       string
	Argv     []string
	Env      []string
	MemoryMB int64
	CPUs     int
	Stdin    *os.File
	Stdout   *os.File
	Stderr   *os.File
	// Extra become fds 3, 4, … in the process.
	Extra []*os.File
}

// Proc is a started sandboxed process.
type Proc struct {
	Cmd     *exec.Cmd
	Started time.Time
	Dir     string
	jail    *jail
}

// Start starts spec's program through the sandbox shim in a new process
// group, in its own working directory.
func (r *Runner) Start(s Spec) (*Proc, error) {
	dir := faashome.JobDir(r.Home, s.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fault.Platformf("create working directory: %w", err)
	}
	j, err := r.Sandbox.prepare(s.ID, s.MemoryMB, s.CPUs)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fault.Platformf("prepare sandbox (%s): %w", r.Sandbox.Kind, err)
	}
	cmd := &exec.Cmd{
		Path:       r.Self,
		Args:       append(append(append([]string{"faas"}, j.shimArgs()...), "--"), s.Argv...),
		Dir:        dir,
		Env:        s.Env,
		Stdin:      s.Stdin,
		Stdout:     s.Stdout,
		Stderr:     s.Stderr,
		ExtraFiles: s.Extra,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	p := &Proc{Cmd: cmd, Dir: dir, jail: j, Started: time.Now()}
	if err := cmd.Start(); err != nil {
		p.Release()
		return nil, fault.Platformf("start %s: %w", s.Argv[0], err)
	}
	return p, nil
}

// Pid is the process' pid (and process group).
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Kill kills the process group and everything in the process' cgroup.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	p.jail.killAll()
}

// ResetPeak starts a new peak-memory measurement where the host allows it
// (cgroup v1; the rlimit sandbox resets the kernel's high-water mark).
func (p *Proc) ResetPeak() {
	if p.jail.resetPeak() {
		return
	}
	_ = os.WriteFile("/proc/"+strconv.Itoa(p.Pid())+"/clear_refs", []byte("5"), 0)
}

// Peak is the highest memory use since start or the last ResetPeak of a
// running process (a warm worker): the cgroup's high-water mark, else the
// process' own (VmHWM); 0 when neither can be read. It does not read the
// exit status, which its Wait may be writing at the same time.
func (p *Proc) Peak() int64 {
	if n := p.jail.peak(); n > 0 {
		return n
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// OOMKilled reports whether the kernel killed a process for the memory limit.
func (p *Proc) OOMKilled() bool { return p.jail.oomKilled() }

// Release kills what is left and removes the cgroups and working directory.
func (p *Proc) Release() {
	if p.Cmd.Process != nil {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
	p.jail.cleanup()
	os.RemoveAll(p.Dir)
}

// ShimError reports a sandbox shim that failed before exec, from the
// process' exit code and what it wrote on stderr.
func ShimError(exitCode *int, stderr []byte) error {
	if exitCode != nil && *exitCode == shimFailure && bytes.HasPrefix(stderr, []byte(shimPrefix)) {
		return fault.Platformf("sandbox: %s", strings.TrimSpace(strings.TrimPrefix(string(stderr), shimPrefix)))
	}
	return nil
}

// ExitCode is the exit code of a process that exited, nil if a signal
// ended it.
func ExitCode(ps *os.ProcessState) *int {
	if ps == nil {
		return nil
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Exited() {
		c := ws.ExitStatus()
		return &c
	}
	return nil
}

// RunScript runs one script-mode invocation in a fresh process to its end:
// the payload on stdin, stdout the result, stderr the logs. It returns an
// error only when the platform failed.
func (r *Runner) RunScript(ctx context.Context, inv faastype.Invocation) (faastype.Outcome, error) {
	code, err := r.WriteCode(inv)
	if err != nil {
		return faastype.Outcome{}, err
	}
	interp, err := r.Interpreter(inv.Config.Runtime)
	if err != nil {
		return faastype.Outcome{}, err
	}
	argv := []string{code}
	if interp != "" {
		argv = []string{interp, code}
	}
	p, err := newPipes()
	if err != nil {
		return faastype.Outcome{}, fault.Platformf("create pipes: %w", err)
	}
	defer p.closeAll()
	timeout := inv.EffectiveTimeout()
	dir := faashome.JobDir(r.Home, inv.JobID)
	proc, err := r.Start(Spec{
		ID: inv.JobID, Argv: argv, Env: Environ(inv, dir, time.Now().Add(timeout)),
		MemoryMB: inv.Config.MemoryMB, CPUs: inv.Config.CPUs,
		Stdin: p.stdinR, Stdout: p.stdoutW, Stderr: p.stderrW,
	})
	if err != nil {
		return faastype.Outcome{}, err
	}
	defer proc.Release()
	p.closeChildEnds()
	go p.feed(inv.Payload)
	result, logs := NewCapped(faastype.ResultLimit+1), NewCapped(faastype.LogLimit)
	var logw io.Writer = logs
	if r.Logs != nil {
		logw = tee{logs, inv.JobID, r.Logs}
		defer r.Logs.End(inv.JobID)
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
	out := faastype.Outcome{
		StartedAt: proc.Started, EndedAt: end,
		Instance: fmt.Sprintf("pid-%d", proc.Pid()), Cold: true,
		PeakMemoryBytes: max(proc.jail.peak(), maxRSS(proc.Cmd.ProcessState)),
		Interrupted:     interrupted,
		ExitCode:        ExitCode(proc.Cmd.ProcessState),
	}
	out.Logs, out.LogsTruncated = logs.WithMarker(), logs.Overflowed()
	if err := ShimError(out.ExitCode, logs.buf); err != nil {
		return faastype.Outcome{}, err
	}
	out.Status, out.Error = faastype.Failed, ""
	switch {
	case timedOut:
		out.Status = faastype.TimedOut
		out.Error = TimeoutError(timeout)
	case interrupted:
		out.Error = InterruptedError
	case proc.OOMKilled() && (out.ExitCode == nil || *out.ExitCode != 0):
		out.Error = OOMError(inv.Config.MemoryMB)
	case out.ExitCode == nil:
		out.Error = "killed by " + signalOf(waitErr)
	case *out.ExitCode != 0:
		out.Error = fmt.Sprintf("exit status %d", *out.ExitCode)
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

// How a sandbox describes the ends of an invocation, the same in every mode.
const InterruptedError = "interrupted: the invocation was cancelled"

// Interrupted is the outcome of an invocation whose caller went away
// before or while it ran.
func Interrupted(now time.Time) faastype.Outcome {
	return faastype.Outcome{Status: faastype.Failed, Error: InterruptedError, Interrupted: true, StartedAt: now, EndedAt: now}
}

// TimeoutError says an invocation was killed at its timeout.
func TimeoutError(d time.Duration) string {
	return fmt.Sprintf("killed after %s (the function's timeout)", d)
}

// OOMError says the kernel killed the function for its memory limit.
func OOMError(memoryMB int64) string {
	return fmt.Sprintf("killed: out of memory (limit %s)", function.FormatSize(memoryMB))
}

func signalOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal " + ws.Signal().String()
		}
	}
	return "a signal"
}

func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
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
