package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SandboxArg is the first argument that makes the faas binary act as the
// sandbox shim: join the job's cgroups, set rlimits, then exec the function.
// Doing this in the child before exec means the function never runs a
// single instruction outside its limits.
const SandboxArg = "__faas-sandbox"

// shimFailure is the exit code of a shim that could not set up the sandbox.
const shimFailure = 125

const shimPrefix = "faas-sandbox: "

// Sandbox kinds, as `faas doctor` reports them.
const (
	KindCgroup2 = "cgroup2"
	KindCgroup1 = "cgroup1"
	KindRlimit  = "rlimit"
)

// Sandbox is how this host confines a function's processes.
type Sandbox struct {
	Kind string
	// Why explains the choice, for doctor and debugging.
	Why string
	// roots are the faas parent cgroups: one for cgroup2, one per
	// controller (memory, cpu, pids) for cgroup1.
	roots map[string]string
	// Jail says functions run jailed (jail.go); JailWhy says why not.
	Jail    bool
	JailWhy string
}

// Enforces lists which limits the sandbox enforces and how.
func (s Sandbox) Enforces() map[string]string {
	switch s.Kind {
	case KindCgroup2, KindCgroup1:
		m := map[string]string{"memory": s.Kind, "timeout": "process group + cgroup kill", "open files": "rlimit"}
		if s.roots["cpu"] != "" || s.Kind == KindCgroup2 {
			m["cpus"] = s.Kind
		}
		if s.roots["pids"] != "" || s.Kind == KindCgroup2 {
			m["processes"] = s.Kind
		}
		return m
	}
	return map[string]string{"memory": "rlimit (RLIMIT_DATA)", "timeout": "process group kill", "open files": "rlimit", "cpus": "not enforced", "processes": "not enforced"}
}

var (
	sandboxOnce sync.Once
	sandbox     Sandbox
)

// DetectSandbox finds the best confinement this host allows, once per
// process. FAAS_SANDBOX=rlimit forces the rlimit fallback.
func DetectSandbox() Sandbox {
	sandboxOnce.Do(func() {
		sandbox = detectSandbox("/sys/fs/cgroup", os.Getenv("FAAS_SANDBOX"))
		sandbox.Jail, sandbox.JailWhy = detectJail(sandbox.Kind)
	})
	return sandbox
}

// detectJail says whether this host can jail: it takes root (to build the
// root and map an unprivileged uid), user namespaces, and cgroups, which
// the jail joins before anything runs. FAAS_SANDBOX=rlimit turns the jail
// off with the cgroups (the baseline the benchmarks compare against).
func detectJail(kind string) (bool, string) {
	switch {
	case kind == KindRlimit:
		return false, "no cgroups (" + kind + "): functions run unjailed"
	case os.Geteuid() != 0:
		return false, "not root: functions run unjailed, as the user faas runs as"
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err != nil || strings.TrimSpace(string(b)) == "0" {
		return false, "user namespaces are off (/proc/sys/user/max_user_namespaces)"
	}
	return true, "user, mount, PID, network, IPC and UTS namespaces, a private root"
}

func detectSandbox(base, want string) Sandbox {
	if want == KindRlimit {
		return Sandbox{Kind: KindRlimit, Why: "FAAS_SANDBOX=rlimit"}
	}
	if ctrl, err := os.ReadFile(filepath.Join(base, "cgroup.controllers")); err == nil {
		if !strings.Contains(" "+string(ctrl)+" ", " memory ") {
			return Sandbox{Kind: KindRlimit, Why: "cgroup2 has no memory controller"}
		}
		root := filepath.Join(base, "faas")
		if err := os.MkdirAll(root, 0o755); err != nil {
			return Sandbox{Kind: KindRlimit, Why: "cgroup2 not writable: " + err.Error()}
		}
		// Controllers must be enabled down to the parent of the job cgroups.
		_ = os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0)
		_ = os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0)
		sub, _ := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
		if !strings.Contains(string(sub), "memory") {
			return Sandbox{Kind: KindRlimit, Why: "cannot enable the cgroup2 memory controller under " + root}
		}
		return Sandbox{Kind: KindCgroup2, Why: "cgroup2 at " + root, roots: map[string]string{"unified": root}}
	}
	mem := filepath.Join(base, "memory")
	if _, err := os.Stat(filepath.Join(mem, "memory.limit_in_bytes")); err != nil {
		return Sandbox{Kind: KindRlimit, Why: "no cgroup memory controller at " + base}
	}
	roots := map[string]string{}
	for _, c := range []string{"memory", "cpu", "pids"} {
		root := filepath.Join(base, c, "faas")
		if err := os.MkdirAll(root, 0o755); err != nil {
			if c == "memory" {
				return Sandbox{Kind: KindRlimit, Why: "cgroup1 memory not writable: " + err.Error()}
			}
			continue
		}
		roots[c] = root
	}
	return Sandbox{Kind: KindCgroup1, Why: "cgroup1 at " + roots["memory"], roots: roots}
}

// jail is the confinement of one invocation.
type jail struct {
	sb       Sandbox
	dirs     map[string]string
	memBytes int64
}

const pidsMax = 1024

func (s Sandbox) prepare(id string, memoryMB int64, cpus int) (*jail, error) {
	j := &jail{sb: s, dirs: map[string]string{}, memBytes: memoryMB << 20}
	if s.Kind == KindRlimit {
		return j, nil
	}
	write := func(dir, file, val string) error {
		return os.WriteFile(filepath.Join(dir, file), []byte(val), 0)
	}
	mk := func(ctrl string) (string, error) {
		dir := filepath.Join(s.roots[ctrl], id)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", err
		}
		j.dirs[ctrl] = dir
		return dir, nil
	}
	quota := strconv.Itoa(cpus * 100000)
	if s.Kind == KindCgroup2 {
		dir, err := mk("unified")
		if err != nil {
			return nil, err
		}
		errs := []error{
			write(dir, "memory.max", strconv.FormatInt(j.memBytes, 10)),
			write(dir, "memory.swap.max", "0"),
			write(dir, "pids.max", strconv.Itoa(pidsMax)),
			write(dir, "cpu.max", quota+" 100000"),
		}
		if errs[0] != nil {
			j.cleanup()
			return nil, fmt.Errorf("set memory limit: %w", errs[0])
		}
		return j, nil
	}
	dir, err := mk("memory")
	if err != nil {
		return nil, err
	}
	if err := write(dir, "memory.limit_in_bytes", strconv.FormatInt(j.memBytes, 10)); err != nil {
		j.cleanup()
		return nil, fmt.Errorf("set memory limit: %w", err)
	}
	// Without swap accounting this file is absent; the limit then covers RAM only.
	_ = write(dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(j.memBytes, 10))
	if s.roots["cpu"] != "" {
		if d, err := mk("cpu"); err == nil {
			_ = write(d, "cpu.cfs_period_us", "100000")
			_ = write(d, "cpu.cfs_quota_us", quota)
		}
	}
	if s.roots["pids"] != "" {
		if d, err := mk("pids"); err == nil {
			_ = write(d, "pids.max", strconv.Itoa(pidsMax))
		}
	}
	return j, nil
}

// setLimits changes the memory and CPU limits of a running job's cgroups
// (a spare's, when it is claimed). In cgroup v1 the memory+swap limit may
// never be below the memory limit: which is written first depends on the
// direction.
func (j *jail) setLimits(memoryMB int64, cpus int) error {
	mem := strconv.FormatInt(memoryMB<<20, 10)
	quota := strconv.Itoa(cpus * 100000)
	write := func(dir, file, val string) error {
		return os.WriteFile(filepath.Join(dir, file), []byte(val), 0)
	}
	switch j.sb.Kind {
	case KindRlimit:
		return errors.New("no cgroups to change")
	case KindCgroup2:
		dir := j.dirs["unified"]
		if err := write(dir, "memory.max", mem); err != nil {
			return fmt.Errorf("set memory limit: %w", err)
		}
		_ = write(dir, "cpu.max", quota+" 100000")
	default:
		dir := j.dirs["memory"]
		order := []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"}
		if memoryMB<<20 > j.memBytes {
			order[0], order[1] = order[1], order[0]
		}
		for _, f := range order {
			err := write(dir, f, mem)
			if err != nil && f == "memory.limit_in_bytes" { // without swap accounting, no memsw
				return fmt.Errorf("set %s: %w", f, err)
			}
		}
		if d := j.dirs["cpu"]; d != "" {
			_ = write(d, "cpu.cfs_quota_us", quota)
		}
	}
	j.memBytes = memoryMB << 20
	return nil
}

// shimArgs are the arguments for the sandbox shim, before "--".
func (j *jail) shimArgs() []string {
	args := []string{SandboxArg}
	for _, d := range j.dirs {
		args = append(args, "-cgroup", filepath.Join(d, "cgroup.procs"))
	}
	if j.sb.Kind == KindRlimit {
		args = append(args, "-data", strconv.FormatInt(j.memBytes, 10))
	}
	return args
}

func (j *jail) procsDir() string {
	if d := j.dirs["unified"]; d != "" {
		return d
	}
	return j.dirs["memory"]
}

// killAll kills every process left in the job's cgroup.
func (j *jail) killAll() {
	dir := j.procsDir()
	if dir == "" {
		return
	}
	if j.sb.Kind == KindCgroup2 {
		if os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0) == nil {
			return
		}
	}
	// A process may fork while we kill; go round until the cgroup is empty.
	for range 50 {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			return
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// peak is the cgroup's high-water mark of memory, or 0 when unknown.
func (j *jail) peak() int64 {
	dir := j.procsDir()
	switch {
	case dir == "":
		return 0
	case j.sb.Kind == KindCgroup2:
		return readInt(filepath.Join(dir, "memory.peak"))
	}
	return readInt(filepath.Join(dir, "memory.max_usage_in_bytes"))
}

// resetPeak restarts the high-water mark; false where the host cannot.
func (j *jail) resetPeak() bool {
	dir := j.procsDir()
	if dir == "" || j.sb.Kind != KindCgroup1 {
		return false
	}
	return os.WriteFile(filepath.Join(dir, "memory.max_usage_in_bytes"), []byte("0"), 0) == nil
}

// oomKilled reports whether the kernel killed a process for the memory limit.
func (j *jail) oomKilled() bool {
	dir := j.procsDir()
	if dir == "" {
		return false
	}
	file := "memory.oom_control"
	if j.sb.Kind == KindCgroup2 {
		file = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == "oom_kill" {
			return strings.TrimSpace(v) != "0"
		}
	}
	// Old cgroup v1 kernels have no oom_kill count; failcnt (any time the
	// limit was reached, reclaim included) is the nearest there is.
	if j.sb.Kind == KindCgroup1 {
		return readInt(filepath.Join(dir, "memory.failcnt")) > 0
	}
	return false
}

// cleanup removes the job's cgroups; a cgroup with live processes cannot be
// removed, so it kills first.
func (j *jail) cleanup() {
	j.killAll()
	for _, d := range j.dirs {
		for range 50 {
			if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// SandboxMain is the shim:
//
//	faas __faas-sandbox [-cgroup FILE]... [-data N] [JAIL] -- PROG ARGS...
//	JAIL: -jail -uid N -tmp MB -status FD [-egress FD] [-secrets FD] [-extra N] [-bind[rw] SRC=DST]...
//	faas __faas-sandbox -exec -- PROG ARGS...   (the jail's last step)
//
// It never returns on success.
func SandboxMain(args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, shimPrefix+format+"\n", a...)
		return shimFailure
	}
	var cgroups []string
	var data int64
	var jailed, execStage bool
	jc := jailConfig{statusFD: -1}
	i := 0
	for ; i < len(args) && args[i] != "--"; i++ {
		switch args[i] {
		case "-jail":
			jailed = true
			continue
		case "-exec":
			execStage = true
			continue
		}
		if i+1 >= len(args) {
			return fail("%s needs a value", args[i])
		}
		v := args[i+1]
		i++
		var err error
		switch args[i-1] {
		case "-cgroup":
			cgroups = append(cgroups, v)
		case "-data":
			data, err = strconv.ParseInt(v, 10, 64)
		case "-uid":
			jc.uid, err = strconv.Atoi(v)
		case "-tmp":
			jc.tmpMB, err = strconv.ParseInt(v, 10, 64)
		case "-status":
			jc.statusFD, err = strconv.Atoi(v)
		case "-egress":
			jc.egressFD, err = strconv.Atoi(v)
		case "-secrets":
			jc.secretsFD, err = strconv.Atoi(v)
		case "-extra":
			jc.extra, err = strconv.Atoi(v)
		case "-bind", "-bindrw":
			src, dst, ok := strings.Cut(v, "=")
			if !ok || !filepath.IsAbs(src) || !filepath.IsAbs(dst) || filepath.Clean(dst) != dst || dst == "/" {
				return fail("bad %s %q: want /SOURCE=/TARGET", args[i-1], v)
			}
			jc.mounts = append(jc.mounts, Mount{Source: src, Target: dst, Writable: args[i-1] == "-bindrw"})
		default:
			return fail("unknown argument %q", args[i-1])
		}
		if err != nil {
			return fail("bad %s %q", args[i-1], v)
		}
	}
	if i+1 >= len(args) {
		return fail("no program to run")
	}
	prog := args[i+1:]
	if execStage {
		return execJailed(prog)
	}
	if jailed && (jc.uid <= 0 || jc.tmpMB <= 0 || jc.statusFD < 3) {
		return fail("-jail needs -uid, -tmp and -status")
	}
	// In a jail this process is PID 1 of its namespace: "0" is itself.
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, f := range cgroups {
		if err := os.WriteFile(f, pid, 0); err != nil {
			return fail("join cgroup: %v", err)
		}
	}
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 4096, Max: 4096})
	if data > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(data), Max: uint64(data)}); err != nil {
			return fail("set memory rlimit: %v", err)
		}
	}
	if jailed {
		// No file the function writes anywhere outgrows twice /tmp: /tmp
		// itself says ENOSPC first.
		fsize := uint64(jc.tmpMB) << 21
		_ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: fsize, Max: fsize})
		return runJail(jc, prog)
	}
	err := syscall.Exec(prog[0], prog, os.Environ())
	return fail("exec %s: %v", prog[0], err)
}
