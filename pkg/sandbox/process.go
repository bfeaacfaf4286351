// Package sandbox starts a function's processes on this machine, confined:
// in their own process group, in cgroups where they are writable and under
// rlimits otherwise, with only the environment they were given. It reports
// how a process ended as bare facts (Exit); what those mean for a job is
// the agent's to say (nomad's executor is the model).
package sandbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
)

// Runner starts sandboxed processes.
type Runner struct {
	// Home is FAAS_HOME: processes run in run/jobs/<id>.
	Home string
	// Self is the faas executable, used as the sandbox shim.
	Self    string
	Sandbox Sandbox
}

// New returns a runner for home with the host's sandbox.
func New(home string) (*Runner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fault.Platformf("find the faas executable: %w", err)
	}
	return &Runner{Home: home, Self: self, Sandbox: DetectSandbox()}, nil
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
	// Secrets are files the process reads in SecretsDir (its jail's) or,
	// unjailed, in the directory SecretsEnv names.
	Secrets map[string][]byte
	// Jail, when set, runs the process in a jail where the host can jail
	// (Runner.Jails); its working directory is then the jail's /tmp.
	Jail *Jail
}

// Proc is a started sandboxed process.
type Proc struct {
	Cmd     *exec.Cmd
	Started time.Time
	Dir     string
	jail    *jail
	// status, for a jailed process, is where its init says how the
	// function ended (the init's own exit cannot say "killed by").
	status *os.File
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
	args := j.shimArgs()
	extra := s.Extra
	var status, statusW *os.File
	var clone uintptr
	env := s.Env
	if len(s.Secrets) > 0 && (s.Jail == nil || !r.Sandbox.Jail) {
		sd, err := writeSecretsDir(dir, s.Secrets)
		if err != nil {
			j.cleanup()
			os.RemoveAll(dir)
			return nil, fault.Platformf("write secrets: %w", err)
		}
		env = append(env[:len(env):len(env)], SecretsEnv+"="+sd)
	}
	if s.Jail != nil && r.Sandbox.Jail {
		if status, statusW, err = os.Pipe(); err != nil {
			j.cleanup()
			os.RemoveAll(dir)
			return nil, fault.Platformf("create pipes: %w", err)
		}
		defer statusW.Close()
		extra = append(append([]*os.File{}, s.Extra...), statusW)
		egressFD, secretsFD := 0, 0
		if s.Jail.Egress != nil {
			extra = append(extra, s.Jail.Egress)
			egressFD = 3 + len(extra) - 1
		}
		if len(s.Secrets) > 0 {
			sf, err := secretsFile(s.Secrets)
			if err != nil {
				statusW.Close()
				status.Close()
				j.cleanup()
				os.RemoveAll(dir)
				return nil, fault.Platformf("pass secrets: %w", err)
			}
			defer sf.Close()
			extra = append(extra, sf)
			secretsFD = 3 + len(extra) - 1
			env = append(env[:len(env):len(env)], SecretsEnv+"="+SecretsDir)
		}
		args = append(append(args, "-extra", strconv.Itoa(len(s.Extra))), s.Jail.args(3+len(s.Extra), egressFD, secretsFD)...)
		clone = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	}
	cmd := &exec.Cmd{
		Path:       r.Self,
		Args:       append(append(append([]string{"faas"}, args...), "--"), s.Argv...),
		Dir:        dir,
		Env:        env,
		Stdin:      s.Stdin,
		Stdout:     s.Stdout,
		Stderr:     s.Stderr,
		ExtraFiles: extra,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:    true,
			Pdeathsig:  syscall.SIGKILL,
			Cloneflags: clone,
		},
	}
	p := &Proc{Cmd: cmd, Dir: dir, jail: j, Started: time.Now(), status: status}
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

// SetLimits gives a running process' cgroups new memory and CPU limits:
// a spare's worker takes its function's when it is claimed.
func (p *Proc) SetLimits(memoryMB int64, cpus int) error { return p.jail.setLimits(memoryMB, cpus) }

// OOMKilled reports whether the kernel killed a process for the memory limit.
func (p *Proc) OOMKilled() bool { return p.jail.oomKilled() }

// Release kills what is left and removes the cgroups and working directory.
func (p *Proc) Release() {
	if p.Cmd.Process != nil {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
	p.jail.cleanup()
	if p.status != nil {
		p.status.Close()
	}
	// A jail's root was mounted on its directory, in the jail's own mount
	// namespace: here it is an ordinary directory.
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

// Exit is how a sandboxed process ended, as facts: its exit code (nil
// when a signal ended it), the signal, whether the kernel killed it for
// its memory limit, and its peak memory.
type Exit struct {
	Code      *int
	Signal    string
	OOMKilled bool
	PeakBytes int64
}

// Exit reads the facts of a process that has been waited for; waitErr is
// what its Wait returned.
func (p *Proc) Exit(waitErr error) Exit {
	e := Exit{Code: ExitCode(p.Cmd.ProcessState), PeakBytes: max(p.jail.peak(), maxRSS(p.Cmd.ProcessState))}
	if e.Code == nil {
		e.Signal = signalOf(waitErr)
	} else if p.status != nil {
		// The init exited; its status pipe says how the function did.
		b, _ := io.ReadAll(io.LimitReader(p.status, 64))
		if code, sig, ok := parseStatus(b); ok {
			e.Code = code
			if code == nil {
				e.Signal = "signal " + sig.String()
			}
		}
	}
	e.OOMKilled = p.OOMKilled() && (e.Code == nil || *e.Code != 0)
	return e
}
