// Package local runs functions as sandboxed processes on this machine: one
// process per invocation, confined by cgroups where they are writable and by
// rlimits otherwise, killed as a whole group at the timeout.
package local

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
)

//go:embed bootstrap/handler.py
var pythonBootstrap string

//go:embed bootstrap/handler.js
var nodeBootstrap string

// Name is the provider's name as recorded on functions and jobs.
const Name = "local"

// payloadEnvLimit is the largest payload also passed in FAAS_PAYLOAD.
const payloadEnvLimit = 32 << 10

// Runner runs each invocation in a fresh sandboxed process.
type Runner struct {
	// Home is FAAS_HOME: code is cached under code/, jobs run in run/jobs/.
	Home string
	// Self is the faas executable used as the sandbox shim.
	Self string
	// LookPath finds interpreters; it is exec.LookPath outside tests.
	LookPath func(string) (string, error)
	Sandbox  Sandbox
}

// New returns a runner for home with the host's sandbox.
func New(home string) (*Runner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fault.Platformf("find the faas executable: %w", err)
	}
	return &Runner{Home: home, Self: self, LookPath: exec.LookPath, Sandbox: DetectSandbox()}, nil
}

// Name implements provider.Runner.
func (r *Runner) Name() string { return Name }

// Interpreter returns the program that runs rt, honouring FAAS_PYTHON and
// FAAS_NODE.
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
	return path, nil
}

// codeFile writes the version's code once under code/ and returns its path.
// The name is the sha256, so concurrent writers agree on the content.
func (r *Runner) codeFile(inv provider.Invocation) (string, error) {
	ext := filepath.Ext(inv.Filename)
	if inv.Config.Runtime == function.Node {
		// The extension decides how Node loads the file, not the user's name.
		ext = ".cjs"
		if function.IsESModule(inv.Code) {
			ext = ".mjs"
		}
	}
	dir := filepath.Join(r.Home, "code")
	path := filepath.Join(dir, inv.SHA256+ext)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(inv.Code); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o700); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// argv is the command line that runs the code file.
func (r *Runner) argv(inv provider.Invocation, code string) ([]string, error) {
	cfg := inv.Config
	interp, err := r.Interpreter(cfg.Runtime)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Runtime == function.Exec:
		return []string{code}, nil
	case cfg.Mode == function.Handler && cfg.Runtime == function.Python:
		return []string{interp, "-c", pythonBootstrap, code}, nil
	case cfg.Mode == function.Handler && cfg.Runtime == function.Node:
		return []string{interp, "-e", nodeBootstrap, code}, nil
	}
	return []string{interp, code}, nil
}

// environ is everything the function sees: what it was given and what faas
// sets, never the caller's environment.
func environ(inv provider.Invocation, workdir string, deadline time.Time) []string {
	cfg := inv.Config
	env := map[string]string{
		"PATH":             "/usr/local/bin:/usr/bin:/bin",
		"HOME":             workdir,
		"TMPDIR":           workdir,
		"LANG":             "C.UTF-8",
		"FAAS_FUNCTION":    inv.Function,
		"FAAS_VERSION":     strconv.Itoa(inv.Version),
		"FAAS_JOB_ID":      inv.JobID,
		"FAAS_RUNTIME":     string(cfg.Runtime),
		"FAAS_MODE":        string(cfg.Mode),
		"FAAS_MEMORY_MB":   strconv.FormatInt(cfg.MemoryMB, 10),
		"FAAS_TIMEOUT_MS":  strconv.FormatInt(inv.EffectiveTimeout().Milliseconds(), 10),
		"FAAS_DEADLINE_MS": strconv.FormatInt(deadline.UnixMilli(), 10),
	}
	if cfg.Runtime == function.Python {
		env["PYTHONUNBUFFERED"] = "1"
		env["PYTHONDONTWRITEBYTECODE"] = "1"
	}
	if len(inv.Payload) <= payloadEnvLimit && utf8.Valid(inv.Payload) && bytes.IndexByte(inv.Payload, 0) < 0 {
		env["FAAS_PAYLOAD"] = string(inv.Payload)
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	return function.EnvList(env)
}

type envelope struct {
	OK     bool   `json:"ok"`
	Result string `json:"result"`
	Error  string `json:"error"`
	InitMS int64  `json:"init_ms"`
}

// Run runs one invocation to its end. It returns an error only when the
// platform failed; everything the function did is in the Outcome.
func (r *Runner) Run(ctx context.Context, inv provider.Invocation) (provider.Outcome, error) {
	code, err := r.codeFile(inv)
	if err != nil {
		return provider.Outcome{}, fault.Platformf("write function code: %w", err)
	}
	argv, err := r.argv(inv, code)
	if err != nil {
		return provider.Outcome{}, err
	}
	workdir := filepath.Join(r.Home, "run", "jobs", inv.JobID)
	if err := os.MkdirAll(workdir, 0o700); err != nil {
		return provider.Outcome{}, fault.Platformf("create job directory: %w", err)
	}
	defer os.RemoveAll(workdir)

	j, err := r.Sandbox.prepare(inv.JobID, inv.Config.MemoryMB, inv.Config.CPUs)
	if err != nil {
		return provider.Outcome{}, fault.Platformf("prepare sandbox (%s): %w", r.Sandbox.Kind, err)
	}
	defer j.cleanup()

	p, err := newPipes(inv.Config.Mode == function.Handler)
	if err != nil {
		return provider.Outcome{}, fault.Platformf("create pipes: %w", err)
	}
	defer p.closeAll()

	timeout := inv.EffectiveTimeout()
	cmd := &exec.Cmd{
		Path:   r.Self,
		Args:   append(append(append([]string{"faas"}, j.shimArgs()...), "--"), argv...),
		Dir:    workdir,
		Stdin:  p.stdinR,
		Stdout: p.stdoutW,
		Stderr: p.stderrW,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if p.resultW != nil {
		cmd.ExtraFiles = []*os.File{p.resultW}
	}
	start := time.Now()
	cmd.Env = environ(inv, workdir, start.Add(timeout))
	if err := cmd.Start(); err != nil {
		return provider.Outcome{}, fault.Platformf("start %s: %w", argv[0], err)
	}
	p.closeChildEnds()
	go p.feed(inv.Payload)
	logs := &capped{limit: provider.LogLimit}
	var result *capped
	var readers []<-chan struct{}
	if p.resultR != nil {
		// Handler mode: stdout and stderr share one pipe, so prints keep
		// their order; the result arrives as an envelope on fd 3, which
		// JSON escaping may make up to twice the result's size.
		result = &capped{limit: 2*provider.ResultLimit + 64<<10}
		readers = append(readers, drain(p.stdoutR, logs), drain(p.resultR, result))
	} else {
		// Script mode: stdout is the result, stderr the logs.
		result = &capped{limit: provider.ResultLimit + 1}
		readers = append(readers, drain(p.stdoutR, result), drain(p.stderrR, logs))
	}

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
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
	pid := cmd.Process.Pid
	// The invocation is over when its main process ends: kill the whole
	// group and cgroup, including anything it left in the background.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	j.killAll()
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

	out := provider.Outcome{
		StartedAt:       start,
		EndedAt:         end,
		Instance:        fmt.Sprintf("local-pid-%d", pid),
		Cold:            true,
		PeakMemoryBytes: max(j.peak(), maxRSS(cmd.ProcessState)),
		Interrupted:     interrupted,
	}
	out.Logs, out.LogsTruncated = logs.withMarker(), logs.overflowed()
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Exited() {
			c := ws.ExitStatus()
			out.ExitCode = &c
		}
	}
	if out.ExitCode != nil && *out.ExitCode == shimFailure && bytes.HasPrefix(logs.buf, []byte(shimPrefix)) {
		return provider.Outcome{}, fault.Platformf("sandbox: %s", strings.TrimSpace(strings.TrimPrefix(string(logs.buf), shimPrefix)))
	}
	r.judge(&out, inv, j, waitErr, timedOut, result, p.resultR != nil)
	return out, nil
}

// judge decides how the invocation ended, in order of what explains it best.
func (r *Runner) judge(out *provider.Outcome, inv provider.Invocation, j *jail, waitErr error, timedOut bool, result *capped, handler bool) {
	var env envelope
	haveEnv := false
	if handler && len(result.buf) > 0 {
		line, _, _ := bytes.Cut(result.buf, []byte("\n"))
		haveEnv = json.Unmarshal(line, &env) == nil
		out.InitMS = env.InitMS
	}
	out.Status = provider.Failed
	switch {
	case timedOut:
		out.Status = provider.TimedOut
		out.Error = fmt.Sprintf("killed after %s (the function's timeout)", inv.EffectiveTimeout())
	case out.Interrupted:
		out.Error = "interrupted: the invocation was cancelled"
	case j.oomKilled() && (out.ExitCode == nil || *out.ExitCode != 0):
		out.Error = fmt.Sprintf("killed: out of memory (limit %s)", function.FormatSize(inv.Config.MemoryMB))
	case handler && haveEnv && !env.OK:
		out.Error = env.Error
	case out.ExitCode == nil:
		out.Error = fmt.Sprintf("killed by %v", signalOf(waitErr))
	case *out.ExitCode != 0:
		out.Error = fmt.Sprintf("exit status %d", *out.ExitCode)
	case handler && result.overflowed():
		out.Error = fmt.Sprintf("result is over the %d MiB limit", provider.ResultLimit>>20)
	case handler && !haveEnv:
		out.Error = "the handler ended without returning a result"
	case handler && len(env.Result) > provider.ResultLimit:
		out.Error = fmt.Sprintf("result is %d bytes, over the %d MiB limit", len(env.Result), provider.ResultLimit>>20)
	case !handler && len(result.buf) > provider.ResultLimit:
		out.Error = fmt.Sprintf("result (stdout) is over the %d MiB limit", provider.ResultLimit>>20)
	default:
		out.Status = provider.Completed
		if handler {
			out.Result = []byte(env.Result)
		}
	}
	if !handler {
		// A failed script's stdout is kept on the record for debugging, but
		// never passed off as a result: invoke prints only completed results.
		out.Result = result.buf[:min(len(result.buf), provider.ResultLimit)]
	}
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

// pipes are the function's stdin, stdout, stderr and (handler mode) the
// result channel on fd 3. In handler mode stdout and stderr are one pipe.
type pipes struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
	resultR, resultW *os.File
}

func newPipes(handler bool) (*pipes, error) {
	p := &pipes{}
	var err error
	if p.stdinR, p.stdinW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.stdoutR, p.stdoutW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, err
	}
	if handler {
		p.stderrW = p.stdoutW
		if p.resultR, p.resultW, err = os.Pipe(); err != nil {
			p.closeAll()
			return nil, err
		}
		return p, nil
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
	for _, f := range []*os.File{p.stdinR, p.stdoutW, p.stderrW, p.resultW} {
		if f != nil {
			f.Close()
		}
	}
}

func (p *pipes) closeAll() {
	for _, f := range []*os.File{p.stdinR, p.stdinW, p.stdoutR, p.stdoutW, p.stderrR, p.stderrW, p.resultR, p.resultW} {
		if f != nil {
			f.Close()
		}
	}
}

// Reap kills every process of a job whose faas died, found by the
// FAAS_JOB_ID in its environment (which survives setsid and reparenting),
// then removes the job's cgroups and directory.
func (r *Runner) Reap(jobID string) {
	mark := []byte("FAAS_JOB_ID=" + jobID + "\x00")
	for range 3 {
		entries, _ := os.ReadDir("/proc")
		killed := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err == nil && bytes.Contains(env, mark) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				killed++
			}
		}
		if killed == 0 {
			break
		}
	}
	r.Sandbox.existing(jobID).cleanup()
	_ = os.RemoveAll(filepath.Join(r.Home, "run", "jobs", jobID))
}
