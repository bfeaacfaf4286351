package fakemultipass

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// EnvUnitEnv names host variables (comma-separated) passed to the
// processes of units, on top of the few always passed.
const EnvUnitEnv = "FAAS_FAKE_MULTIPASS_UNIT_ENV"

// unitPassEnv are the host variables unit processes always get.
var unitPassEnv = []string{"TMPDIR", "GOCOVERDIR", "GORACE", "GOTRACEBACK"}

// guestPATH is the PATH of the guest, searched in the root before the host.
var guestPATH = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// mapValue is how an argument (or an environment value) of a unit reaches
// the host: "0.0.0.0:" becomes the instance's address, and an absolute
// path whose file or parent directory exists under the root is moved
// under the root (also as the value of a --flag=/path).
func mapValue(root, ip, a string) string {
	a = strings.ReplaceAll(a, "0.0.0.0:", ip+":")
	mapPath := func(p string) (string, bool) {
		if !strings.HasPrefix(p, "/") {
			return "", false
		}
		h := filepath.Join(root, guestPath("/", p))
		if exists(h) || exists(filepath.Dir(h)) {
			return h, true
		}
		return "", false
	}
	if h, ok := mapPath(a); ok {
		return h
	}
	if k, v, ok := strings.Cut(a, "="); ok {
		if h, ok := mapPath(v); ok {
			return k + "=" + h
		}
	}
	return a
}

// resolveProgram finds what to run for a guest command name: a file under
// the root (by path, or by name in the guest's PATH). The host's own
// programs are not the guest's: the image's packages put theirs in the
// root (installPackage).
func resolveProgram(root, word, cwd string) (string, bool) {
	if strings.Contains(word, "/") {
		h := filepath.Join(root, guestPath(cwd, word))
		return h, isFile(h)
	}
	for _, d := range guestPATH {
		if h := filepath.Join(root, d, word); isFile(h) {
			return h, true
		}
	}
	return "", false
}

// guestPathEnv is the guest's PATH as the host sees it: the root's
// directories only.
func guestPathEnv(root string) string {
	dirs := make([]string, len(guestPATH))
	for i, d := range guestPATH {
		dirs[i] = filepath.Join(root, d)
	}
	return "PATH=" + strings.Join(dirs, ":")
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

type unitError struct {
	msg  string
	code int
}

func (e *unitError) Error() string { return e.msg }

func unitName(n string) string {
	if !strings.Contains(n, ".") {
		return n + ".service"
	}
	return n
}

// unitLog appends a line to the unit's log, as the journal would have it.
func (c *cli) unitLog(root, name, line string) {
	f, err := os.OpenFile(filepath.Join(root, "var/log", strings.TrimSuffix(name, ".service")+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func (c *cli) unitPath(in *instance, name string) string {
	return filepath.Join(c.root(in.Name), "etc/systemd/system", name)
}

func jobFailed(name string) *unitError {
	return &unitError{fmt.Sprintf("Job for %s failed because the control process exited with error code.\nSee \"systemctl status %s\" and \"journalctl -xeu %s\" for details.", name, name, name), 1}
}

// startUnit starts a unit's ExecStart as a detached host process (its own
// session, stdin /dev/null, output appended to /var/log/<unit>.log) and
// records it. The caller holds the state lock.
func (c *cli) startUnit(in *instance, name string) error {
	if in.Units == nil {
		in.Units = map[string]*unit{}
	}
	u := in.Units[name]
	if u != nil && alive(u.PID, u.Start) {
		return nil
	}
	root := c.root(in.Name)
	data, err := os.ReadFile(c.unitPath(in, name))
	if err != nil {
		return &unitError{fmt.Sprintf("Failed to start %s: Unit %s not found.", name, name), 5}
	}
	uf := parseUnitFile(string(data))
	if u == nil {
		u = &unit{}
		in.Units[name] = u
	}
	env := map[string]string{}
	var order []string
	for _, ef := range uf.envFiles {
		optional := strings.HasPrefix(ef, "-")
		p := strings.TrimPrefix(ef, "-")
		d, err := os.ReadFile(filepath.Join(root, guestPath("/", p)))
		if err != nil {
			if optional {
				continue
			}
			u.PID, u.Start, u.Stopped = 0, 0, false
			return &unitError{fmt.Sprintf("Job for %s failed because of unavailable resources or another system error.\nSee \"systemctl status %s\" and \"journalctl -xeu %s\" for details.", name, name, name), 1}
		}
		parseEnvFile(string(d), env, &order)
	}
	for _, e := range uf.env {
		for _, kv := range splitWords(e) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				setEnv(env, &order, k, v)
			}
		}
	}
	words := expandWords(splitWords(uf.execStart), env)
	if len(words) == 0 {
		return &unitError{fmt.Sprintf("Failed to start %s: Unit %s has a bad unit file setting.", name, name), 1}
	}
	words[0] = strings.TrimLeft(words[0], "@-:+!")
	prog, ok := resolveProgram(root, words[0], "/")
	if !ok {
		u.PID, u.Start, u.Stopped = 0, 0, false
		c.unitLog(root, name, fmt.Sprintf("%s: Unable to locate executable '%s': No such file or directory", name, words[0]))
		return jobFailed(name)
	}
	if msg, _ := execRefusal(prog, words[0], in.GLIBC); msg != "" {
		u.PID, u.Start, u.Stopped = 0, 0, false
		c.unitLog(root, name, name+": "+msg)
		return jobFailed(name)
	}
	args := make([]string, len(words))
	args[0] = words[0]
	for i := 1; i < len(words); i++ {
		args[i] = mapValue(root, in.IP, words[i])
	}
	procEnv := []string{
		guestPathEnv(root),
		"LANG=C.UTF-8",
		"HOME=" + filepath.Join(root, "root"),
	}
	for _, k := range append(unitPassEnv, listEnv(c.getenv(EnvUnitEnv))...) {
		if v, ok := os.LookupEnv(k); ok {
			procEnv = append(procEnv, k+"="+v)
		}
	}
	for _, k := range order {
		procEnv = append(procEnv, k+"="+mapValue(root, in.IP, env[k]))
	}
	dir := root
	if uf.workDir != "" {
		dir = filepath.Join(root, guestPath("/", strings.TrimPrefix(uf.workDir, "-")))
	}
	logDir := filepath.Join(root, "var/log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return &unitError{err.Error(), 1}
	}
	logf, err := os.OpenFile(filepath.Join(logDir, strings.TrimSuffix(name, ".service")+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return &unitError{err.Error(), 1}
	}
	defer logf.Close()
	cmd := &exec.Cmd{Path: prog, Args: args, Env: procEnv, Dir: dir, Stdout: logf, Stderr: logf,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "%s: failed to start %s: %v\n", name, prog, err)
		u.PID, u.Start, u.Stopped = 0, 0, false
		return jobFailed(name)
	}
	u.PID, u.Start, u.Stopped = cmd.Process.Pid, startTime(cmd.Process.Pid), false
	_ = cmd.Process.Release()
	return nil
}
