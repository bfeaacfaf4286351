package fakemultipass

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// unitFile is the [Service] part of a systemd unit the shim understands.
type unitFile struct {
	description string
	execStart   string
	envFiles    []string
	env         []string
	workDir     string
}

func parseUnitFile(text string) unitFile {
	var u unitFile
	section := ""
	var lines []string
	var cont strings.Builder
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasSuffix(l, "\\") {
			cont.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cont.WriteString(l)
		lines = append(lines, cont.String())
		cont.Reset()
	}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case section == "Unit" && k == "Description":
			u.description = v
		case section != "Service":
		case k == "ExecStart":
			u.execStart = v
		case k == "EnvironmentFile":
			u.envFiles = append(u.envFiles, v)
		case k == "Environment":
			u.env = append(u.env, v)
		case k == "WorkingDirectory":
			u.workDir = v
		}
	}
	return u
}

// splitWords splits a command line the way systemd does, with quotes and
// backslash escapes.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

var (
	wholeVarRe  = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
	inlineVarRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// expandWords applies systemd's substitution: "$VAR" as a whole word
// becomes the value's words, "${VAR}" is replaced in place.
func expandWords(words []string, env map[string]string) []string {
	var out []string
	for _, w := range words {
		if m := wholeVarRe.FindStringSubmatch(w); m != nil {
			out = append(out, strings.Fields(env[m[1]])...)
			continue
		}
		out = append(out, inlineVarRe.ReplaceAllStringFunc(w, func(v string) string {
			return env[v[2:len(v)-1]]
		}))
	}
	return out
}

func parseEnvFile(data string, env map[string]string, order *[]string) {
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		setEnv(env, order, k, v)
	}
}

func setEnv(env map[string]string, order *[]string, k, v string) {
	if _, ok := env[k]; !ok {
		*order = append(*order, k)
	}
	env[k] = v
}

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

// resolveProgram finds what to run for a guest command name: the file
// under the root when there is one, else the host's.
func resolveProgram(root, word, cwd string) (string, bool) {
	if strings.Contains(word, "/") {
		g := guestPath(cwd, word)
		if h := filepath.Join(root, g); isFile(h) {
			return h, true
		}
		if strings.HasPrefix(word, "/") && isFile(word) {
			return word, true
		}
		return "", false
	}
	for _, d := range guestPATH {
		if h := filepath.Join(root, d, word); isFile(h) {
			return h, true
		}
	}
	p, err := exec.LookPath(word)
	return p, err == nil
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
		return jobFailed(name)
	}
	args := make([]string, len(words))
	args[0] = words[0]
	for i := 1; i < len(words); i++ {
		args[i] = mapValue(root, in.IP, words[i])
	}
	procEnv := []string{
		"PATH=" + filepath.Join(root, "usr/local/sbin") + ":" + filepath.Join(root, "usr/local/bin") + ":" + os.Getenv("PATH"),
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

// systemctl is the guest's systemctl: units are started and stopped by the
// fake, enabled units start when the instance boots.
func (g *guest) systemctl(args []string) int {
	var verb string
	var units []string
	now, quiet := false, false
	for _, a := range args {
		switch {
		case a == "--now":
			now = true
		case a == "-q" || a == "--quiet":
			quiet = true
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			units = append(units, unitName(a))
		}
	}
	switch verb {
	case "":
		fmt.Fprintln(g.stderr, "systemctl (stand-in): no command verb given")
		return 1
	case "daemon-reload", "enable", "disable", "start", "stop", "restart", "is-active", "is-enabled", "is-failed", "status":
	default:
		fmt.Fprintf(g.stderr, "Unknown command verb '%s'.\n", verb)
		return 1
	}
	if verb == "daemon-reload" && len(units) > 0 {
		fmt.Fprintln(g.stderr, "Too many arguments.")
		return 1
	}
	if verb != "daemon-reload" && len(units) == 0 {
		fmt.Fprintln(g.stderr, "Too few arguments.")
		return 1
	}
	privileged := verb != "is-active" && verb != "is-enabled" && verb != "is-failed" && verb != "status"
	if privileged && !g.sudo {
		if verb == "daemon-reload" {
			fmt.Fprintln(g.stderr, "Failed to reload daemon: Interactive authentication required.")
		} else {
			fmt.Fprintf(g.stderr, "Failed to %s %s: Interactive authentication required.\nSee system logs and 'systemctl status %s' for details.\n", verb, units[0], units[0])
		}
		return 1
	}
	s, err := g.c.open()
	if err != nil {
		fmt.Fprintln(g.stderr, err)
		return 1
	}
	in := s.find(g.name)
	if in == nil {
		s.close()
		fmt.Fprintf(g.stderr, "systemctl: instance %s is gone\n", g.name)
		return 1
	}
	if in.Units == nil {
		in.Units = map[string]*unit{}
	}
	code := 0
	for _, name := range units {
		u := in.Units[name]
		hasFile := exists(g.c.unitPath(in, name))
		active := u != nil && alive(u.PID, u.Start)
		switch verb {
		case "enable", "disable":
			if !hasFile {
				fmt.Fprintf(g.stderr, "Failed to %s unit: Unit file %s does not exist.\n", verb, name)
				code = 1
				continue
			}
			if u == nil {
				u = &unit{}
				in.Units[name] = u
			}
			if verb == "enable" {
				if !u.Enabled {
					fmt.Fprintf(g.stderr, "Created symlink /etc/systemd/system/multi-user.target.wants/%s → /etc/systemd/system/%s.\n", name, name)
				}
				u.Enabled = true
				if now {
					if err := g.c.startUnit(in, name); err != nil {
						code = g.unitFailure(err)
					}
				}
				continue
			}
			if u.Enabled {
				fmt.Fprintf(g.stderr, "Removed \"/etc/systemd/system/multi-user.target.wants/%s\".\n", name)
			}
			u.Enabled = false
			if now {
				killUnit(u)
				u.PID, u.Start, u.Stopped = 0, 0, true
			}
		case "start", "restart":
			if verb == "restart" && u != nil {
				killUnit(u)
				u.PID, u.Start = 0, 0
			}
			if err := g.c.startUnit(in, name); err != nil {
				code = g.unitFailure(err)
			}
		case "stop":
			if u == nil && !hasFile {
				fmt.Fprintf(g.stderr, "Failed to stop %s: Unit %s not loaded.\n", name, name)
				code = 5
				continue
			}
			if u != nil {
				killUnit(u)
				u.PID, u.Start, u.Stopped = 0, 0, true
			}
		case "is-active", "is-failed":
			st := "inactive"
			switch {
			case active:
				st = "active"
			case u != nil && u.PID != 0 && !u.Stopped:
				st = "failed"
			}
			if !quiet {
				fmt.Fprintln(g.stdout, st)
			}
			if verb == "is-active" && st != "active" {
				code = 3
			}
			if verb == "is-failed" && st != "failed" {
				code = 1
			}
		case "is-enabled":
			switch {
			case !hasFile:
				fmt.Fprintf(g.stderr, "Failed to get unit file state for %s: No such file or directory\n", name)
				code = 1
			case u != nil && u.Enabled:
				if !quiet {
					fmt.Fprintln(g.stdout, "enabled")
				}
			default:
				if !quiet {
					fmt.Fprintln(g.stdout, "disabled")
				}
				code = 1
			}
		case "status":
			if !hasFile && u == nil {
				fmt.Fprintf(g.stderr, "Unit %s could not be found.\n", name)
				code = 4
				continue
			}
			uf := unitFile{}
			if data, err := os.ReadFile(g.c.unitPath(in, name)); err == nil {
				uf = parseUnitFile(string(data))
			}
			enabled := "disabled"
			if u != nil && u.Enabled {
				enabled = "enabled"
			}
			fmt.Fprintf(g.stdout, "● %s - %s\n     Loaded: loaded (/etc/systemd/system/%s; %s)\n", name, uf.description, name, enabled)
			if active {
				fmt.Fprintf(g.stdout, "     Active: active (running)\n   Main PID: %d\n", u.PID)
			} else {
				fmt.Fprintf(g.stdout, "     Active: inactive (dead)\n")
				code = 3
			}
		}
	}
	if err := s.commit(); err != nil {
		fmt.Fprintln(g.stderr, err)
		return 1
	}
	return code
}

func (g *guest) unitFailure(err error) int {
	fmt.Fprintln(g.stderr, err)
	if ue, ok := err.(*unitError); ok {
		return ue.code
	}
	return 1
}
