package fakemultipass

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// guest runs commands "inside" an instance: built-in shims act on the
// instance's root directory, anything else runs on the host.
type guest struct {
	c              *cli
	name           string
	root           string
	ip             string
	cwd            string // a guest path
	sudo           bool
	stdin          io.Reader
	stdout, stderr io.Writer
}

// abs is p as an absolute guest path.
func (g *guest) abs(p string) string { return guestPath(g.cwd, p) }

// host is where the guest path p lives on the host.
func (g *guest) host(p string) string { return filepath.Join(g.root, g.abs(p)) }

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// owned says whether the guest user may write p: root may write anything,
// the default user its home and the temporary directories.
func (g *guest) owned(gp string) bool {
	return g.sudo || under(gp, guestHome) || under(gp, "/tmp") || under(gp, "/var/tmp")
}

func (g *guest) canRead(gp string, fi os.FileInfo) bool {
	return g.owned(gp) || fi.Mode()&0o004 != 0
}

func (g *guest) errf(format string, a ...any) int {
	fmt.Fprintf(g.stderr, format+"\n", a...)
	return 1
}

var shims = []string{"sudo", "install", "mkdir", "cat", "true", "false", "test", "chmod", "rm", "systemctl", "cloud-init"}

func (c *cli) cmdExec(args []string) int {
	p, err := parseArgs(args, []opt{{long: "working-directory", short: "d", value: true}, {long: "no-map-working-directory", short: "n"}})
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		if !slices.Contains(args, "--") {
			fmt.Fprint(c.stderr, "\nOptions to the inner command should come after \"--\", like this:\nmultipass exec <instance> -- <command> <arguments>\n")
		}
		return 1
	}
	if p.help {
		fmt.Fprintln(c.stdout, "Usage: multipass exec [options] <name> [--] <command>\n(stand-in; see internal/fakemultipass/README.md)")
		return 0
	}
	if p.has("working-directory") && p.has("no-map-working-directory") {
		return c.usage("Options --working-directory and --no-map-working-directory clash")
	}
	if len(p.pos) < 2 {
		return c.usage("Wrong number of arguments")
	}
	name, argv := p.pos[0], p.pos[1:]
	if code, ok := c.connect("exec"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("exec", err.Error())
	}
	in := s.find(name)
	switch {
	case in == nil:
		s.close()
		return c.fail("exec", fmt.Sprintf("instance \"%s\" does not exist", name))
	case in.State == stDeleted:
		s.close()
		return c.fail("exec", fmt.Sprintf("instance \"%s\" is deleted", name))
	case c.state(in) == stUnknown:
		s.close()
		return c.fail("exec", "Cannot retrieve credentials in unknown state")
	case !running(c.state(in)):
		// A stopped instance is started first, as `multipass start` does.
		c.spin("Starting " + name)
		c.boot(in)
		if err := s.commit(); err != nil {
			return c.fail("exec", err.Error())
		}
	default:
		s.close()
	}
	g := &guest{c: c, name: name, root: c.root(name), ip: in.IP, cwd: guestHome, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}
	if p.has("working-directory") {
		dir := g.abs(p.get("working-directory"))
		if fi, err := os.Stat(g.host(dir)); err != nil || !fi.IsDir() {
			fmt.Fprintf(c.stderr, "bash: line 1: cd: %s: No such file or directory\n", p.get("working-directory"))
			return 1
		}
		g.cwd = dir
	}
	return g.run(argv)
}

func isStdBin(p string) bool {
	switch path.Dir(p) {
	case "/bin", "/usr/bin", "/sbin", "/usr/sbin":
		return true
	}
	return false
}

// run runs one guest command line.
func (g *guest) run(argv []string) int {
	name := argv[0]
	if strings.Contains(name, "/") && isStdBin(name) && slices.Contains(shims, path.Base(name)) && !isFile(g.host(name)) {
		name = path.Base(name)
	}
	args := argv[1:]
	switch name {
	case "sudo":
		return g.sudoCmd(args)
	case "install":
		return g.install(args)
	case "mkdir":
		return g.mkdir(args)
	case "cat":
		return g.cat(args)
	case "true":
		return 0
	case "false":
		return 1
	case "test":
		return g.test(args)
	case "chmod":
		return g.chmod(args)
	case "rm":
		return g.rm(args)
	case "systemctl":
		return g.systemctl(args)
	case "cloud-init":
		if len(args) > 0 && args[0] == "status" {
			fmt.Fprintln(g.stdout, "status: done")
			return 0
		}
		return g.errf("cloud-init (stand-in): only 'status' is supported")
	}
	return g.hostCmd(argv)
}

func (g *guest) sudoCmd(args []string) int {
	h := *g
	h.sudo = true
	i := 0
loop:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			i++
			break loop
		case a == "-u" || a == "-g" || a == "-C" || a == "-D" || a == "-h" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-"):
			if a == "-u" && i+1 < len(args) && args[i+1] != "root" && args[i+1] != "0" && args[i+1] != "#0" {
				h.sudo = false
			}
			i++
		case strings.HasPrefix(a, "--user="):
			if u := strings.TrimPrefix(a, "--user="); u != "root" {
				h.sudo = false
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
		default:
			break loop
		}
	}
	if i >= len(args) {
		return g.errf("usage: sudo -h | -K | -k | -V\nusage: sudo [-AbEHknPS] [-u user] [-g group] command [arg ...]")
	}
	return h.run(args[i:])
}

// hostCmd runs a command that is no shim on the host, in the guest's
// working directory, with argv[0] taken from the root when it is there.
func (g *guest) hostCmd(argv []string) int {
	prog, ok := resolveProgram(g.root, argv[0], g.cwd)
	if !ok {
		if strings.Contains(argv[0], "/") {
			fmt.Fprintf(g.stderr, "bash: line 1: %s: No such file or directory\n", argv[0])
		} else {
			fmt.Fprintf(g.stderr, "bash: line 1: %s: command not found\n", argv[0])
		}
		return 127
	}
	home := guestHome
	if g.sudo {
		home = "/root"
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "PWD=") })
	env = append(env, "HOME="+filepath.Join(g.root, home))
	cmd := &exec.Cmd{Path: prog, Args: argv, Dir: g.host(g.cwd), Env: env, Stdin: g.stdin, Stdout: g.stdout, Stderr: g.stderr}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	case errors.Is(err, os.ErrPermission):
		fmt.Fprintf(g.stderr, "bash: line 1: %s: Permission denied\n", argv[0])
		return 126
	}
	fmt.Fprintf(g.stderr, "bash: line 1: %s: %v\n", argv[0], err)
	return 127
}

// shortFlags splits "-Dm644"-style option clusters: value options take the
// rest of the cluster or the next argument.
type flagSet struct {
	bools  map[string]bool
	values map[string]string
}

func parseShimFlags(args []string, boolFlags, valueFlags map[string]string) (flagSet, []string, string) {
	fs := flagSet{bools: map[string]bool{}, values: map[string]string{}}
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return fs, append(ops, args[i+1:]...), ""
		case strings.HasPrefix(a, "--"):
			k, v, hasV := strings.Cut(a, "=")
			if name, ok := valueFlags[k]; ok {
				if !hasV {
					if i+1 >= len(args) {
						return fs, ops, fmt.Sprintf("option '%s' requires an argument", k)
					}
					i++
					v = args[i]
				}
				fs.values[name] = v
			} else if name, ok := boolFlags[k]; ok {
				fs.bools[name] = true
			} else {
				return fs, ops, fmt.Sprintf("unrecognized option '%s'", a)
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				f := "-" + a[j:j+1]
				if name, ok := valueFlags[f]; ok {
					v := a[j+1:]
					if v == "" {
						if i+1 >= len(args) {
							return fs, ops, fmt.Sprintf("option requires an argument -- '%s'", a[j:j+1])
						}
						i++
						v = args[i]
					}
					fs.values[name] = v
					break
				}
				name, ok := boolFlags[f]
				if !ok {
					return fs, ops, fmt.Sprintf("invalid option -- '%s'", a[j:j+1])
				}
				fs.bools[name] = true
			}
		default:
			ops = append(ops, a)
		}
	}
	return fs, ops, ""
}

func (g *guest) install(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-d": "d", "--directory": "d", "-D": "D", "-c": "", "-C": "", "--compare": "", "-p": "", "--preserve-timestamps": "", "-s": "", "--strip": "", "-v": "", "--verbose": ""},
		map[string]string{"-m": "m", "--mode": "m", "-o": "o", "--owner": "o", "-g": "g", "--group": "g", "-t": "t", "--target-directory": "t"})
	if bad != "" {
		return g.errf("install: %s", bad)
	}
	mode := os.FileMode(0o755)
	if m, ok := fs.values["m"]; ok {
		var err error
		if mode, err = chmodMode(m, 0); err != nil {
			return g.errf("install: invalid mode '%s'", m)
		}
	}
	if fs.bools["d"] {
		code := 0
		for _, op := range ops {
			if c := g.mkdirP(op, mode, "install: cannot create directory '%s': %s"); c != 0 {
				code = c
			}
		}
		return code
	}
	dst, srcs := "", ops
	toDir := false
	if t, ok := fs.values["t"]; ok {
		dst, toDir = t, true
		if fs.bools["D"] {
			if c := g.mkdirP(dst, 0o755, "install: cannot create directory '%s': %s"); c != 0 {
				return c
			}
		}
	} else {
		switch len(ops) {
		case 0:
			return g.errf("install: missing file operand")
		case 1:
			return g.errf("install: missing destination file operand after '%s'", ops[0])
		}
		dst, srcs = ops[len(ops)-1], ops[:len(ops)-1]
		fi, err := os.Stat(g.host(dst))
		toDir = len(srcs) > 1 || (err == nil && fi.IsDir())
		if fs.bools["D"] && !toDir {
			if c := g.mkdirP(path.Dir(g.abs(dst)), 0o755, "install: cannot create directory '%s': %s"); c != 0 {
				return c
			}
		}
	}
	if toDir {
		if fi, err := os.Stat(g.host(dst)); err != nil || !fi.IsDir() {
			return g.errf("install: target '%s' is not a directory", dst)
		}
	}
	code := 0
	for _, src := range srcs {
		target := dst
		if toDir {
			target = strings.TrimSuffix(dst, "/") + "/" + path.Base(src)
		}
		if c := g.installFile(src, target, mode); c != 0 {
			code = c
		}
	}
	return code
}

func (g *guest) installFile(src, target string, mode os.FileMode) int {
	fi, err := os.Stat(g.host(src))
	switch {
	case err != nil:
		return g.errf("install: cannot stat '%s': No such file or directory", src)
	case fi.IsDir():
		return g.errf("install: omitting directory '%s'", src)
	case !g.canRead(g.abs(src), fi):
		return g.errf("install: cannot open '%s' for reading: Permission denied", src)
	}
	gt := g.abs(target)
	if !isDirPath(filepath.Dir(g.host(target))) {
		return g.errf("install: cannot create regular file '%s': No such file or directory", target)
	}
	if !g.owned(gt) {
		return g.errf("install: cannot create regular file '%s': Permission denied", target)
	}
	if err := copyFile(g.host(src), g.host(target), mode); err != nil {
		return g.errf("install: cannot create regular file '%s': %v", target, err)
	}
	return 0
}

func isDirPath(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// copyFile writes dst anew (a new inode, as install does, so a running
// binary can be replaced) with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".install-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// mkdirP creates a directory and its parents, checking each created one.
func (g *guest) mkdirP(p string, mode os.FileMode, errFormat string) int {
	gp := g.abs(p)
	cur := "/"
	for _, part := range strings.Split(strings.TrimPrefix(gp, "/"), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		// Like GNU mkdir -p, name the component that failed, as given.
		shown := cur
		if !strings.HasPrefix(p, "/") {
			if rel, err := filepath.Rel(g.cwd, cur); err == nil {
				shown = rel
			}
		}
		h := filepath.Join(g.root, cur)
		fi, err := os.Stat(h)
		if err == nil {
			if !fi.IsDir() {
				return g.errf(errFormat, shown, "File exists")
			}
			continue
		}
		if !g.owned(cur) {
			return g.errf(errFormat, shown, "Permission denied")
		}
		if err := os.Mkdir(h, 0o755); err != nil && !os.IsExist(err) {
			return g.errf(errFormat, shown, err.Error())
		}
		if cur == gp {
			_ = os.Chmod(h, mode)
		}
	}
	return 0
}

func (g *guest) mkdir(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-p": "p", "--parents": "p", "-v": "", "--verbose": ""},
		map[string]string{"-m": "m", "--mode": "m"})
	if bad != "" {
		return g.errf("mkdir: %s", bad)
	}
	if len(ops) == 0 {
		return g.errf("mkdir: missing operand")
	}
	mode := os.FileMode(0o755)
	if m, ok := fs.values["m"]; ok {
		var err error
		if mode, err = chmodMode(m, 0o777); err != nil {
			return g.errf("mkdir: invalid mode '%s'", m)
		}
	}
	code := 0
	for _, op := range ops {
		if fs.bools["p"] {
			if c := g.mkdirP(op, mode, "mkdir: cannot create directory '%s': %s"); c != 0 {
				code = c
			}
			continue
		}
		gp := g.abs(op)
		h := g.host(op)
		switch {
		case exists(h):
			code = g.errf("mkdir: cannot create directory '%s': File exists", op)
		case !isDirPath(filepath.Dir(h)):
			code = g.errf("mkdir: cannot create directory '%s': No such file or directory", op)
		case !g.owned(gp):
			code = g.errf("mkdir: cannot create directory '%s': Permission denied", op)
		default:
			if err := os.Mkdir(h, 0o755); err != nil {
				code = g.errf("mkdir: cannot create directory '%s': %v", op, err)
				continue
			}
			_ = os.Chmod(h, mode)
		}
	}
	return code
}

func (g *guest) cat(args []string) int {
	var ops []string
	for _, a := range args {
		if a == "-" || !strings.HasPrefix(a, "-") {
			ops = append(ops, a)
		}
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, op := range ops {
		if op == "-" {
			_, _ = io.Copy(g.stdout, g.stdin)
			continue
		}
		h := g.host(op)
		fi, err := os.Stat(h)
		switch {
		case err != nil:
			code = g.errf("cat: %s: No such file or directory", op)
		case fi.IsDir():
			code = g.errf("cat: %s: Is a directory", op)
		case !g.canRead(g.abs(op), fi):
			code = g.errf("cat: %s: Permission denied", op)
		default:
			f, err := os.Open(h)
			if err != nil {
				code = g.errf("cat: %s: %v", op, err)
				continue
			}
			_, _ = io.Copy(g.stdout, f)
			f.Close()
		}
	}
	return code
}

func (g *guest) test(args []string) int {
	neg := false
	if len(args) > 0 && args[0] == "!" {
		neg, args = true, args[1:]
	}
	var r bool
	switch len(args) {
	case 0:
	case 1:
		r = args[0] != ""
	case 2:
		op, p := args[0], args[1]
		fi, err := os.Stat(g.host(p))
		switch op {
		case "-n":
			r = p != ""
		case "-z":
			r = p == ""
		case "-e":
			r = err == nil
		case "-f":
			r = err == nil && fi.Mode().IsRegular()
		case "-d":
			r = err == nil && fi.IsDir()
		case "-s":
			r = err == nil && fi.Size() > 0
		case "-x":
			r = err == nil && fi.Mode()&0o111 != 0
		case "-r":
			r = err == nil && g.canRead(g.abs(p), fi)
		case "-w":
			r = err == nil && g.owned(g.abs(p))
		case "-L", "-h":
			lfi, lerr := os.Lstat(g.host(p))
			r = lerr == nil && lfi.Mode()&os.ModeSymlink != 0
		default:
			fmt.Fprintf(g.stderr, "test: %s: unary operator expected\n", op)
			return 2
		}
	case 3:
		a, op, b := args[0], args[1], args[2]
		switch op {
		case "=", "==":
			r = a == b
		case "!=":
			r = a != b
		default:
			var x, y int
			if _, err := fmt.Sscan(a, &x); err != nil {
				fmt.Fprintf(g.stderr, "test: %s: integer expression expected\n", a)
				return 2
			}
			if _, err := fmt.Sscan(b, &y); err != nil {
				fmt.Fprintf(g.stderr, "test: %s: integer expression expected\n", b)
				return 2
			}
			switch op {
			case "-eq":
				r = x == y
			case "-ne":
				r = x != y
			case "-lt":
				r = x < y
			case "-le":
				r = x <= y
			case "-gt":
				r = x > y
			case "-ge":
				r = x >= y
			default:
				fmt.Fprintf(g.stderr, "test: %s: binary operator expected\n", op)
				return 2
			}
		}
	default:
		fmt.Fprintln(g.stderr, "test: too many arguments")
		return 2
	}
	if r != neg {
		return 0
	}
	return 1
}

// chmodMode applies a chmod mode (octal, or symbolic like u+x,go-w) to base.
func chmodMode(spec string, base os.FileMode) (os.FileMode, error) {
	if spec == "" {
		return 0, errors.New("empty mode")
	}
	if strings.Trim(spec, "01234567") == "" {
		var n uint64
		for _, r := range spec {
			n = n*8 + uint64(r-'0')
		}
		if n > 0o7777 {
			return 0, errors.New("bad mode")
		}
		return unixMode(n), nil
	}
	m := base
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who os.FileMode
		for ; i < len(clause) && strings.ContainsRune("ugoa", rune(clause[i])); i++ {
			switch clause[i] {
			case 'u':
				who |= 0o700
			case 'g':
				who |= 0o070
			case 'o':
				who |= 0o007
			case 'a':
				who |= 0o777
			}
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) || !strings.ContainsRune("+-=", rune(clause[i])) {
			return 0, errors.New("bad mode")
		}
		op := clause[i]
		var bits os.FileMode
		for _, r := range clause[i+1:] {
			switch r {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x', 'X':
				bits |= 0o111
			case 's', 't':
			default:
				return 0, errors.New("bad mode")
			}
		}
		bits &= who
		switch op {
		case '+':
			m |= bits
		case '-':
			m &^= bits
		case '=':
			m = m&^who | bits
		}
	}
	return m, nil
}

func (g *guest) chmod(args []string) int {
	recursive := false
	var ops []string
	for _, a := range args {
		switch a {
		case "-R", "--recursive":
			recursive = true
		case "-f", "-v", "-c", "--silent", "--quiet", "--verbose", "--changes":
		default:
			ops = append(ops, a)
		}
	}
	if len(ops) < 2 {
		if len(ops) == 0 {
			return g.errf("chmod: missing operand")
		}
		return g.errf("chmod: missing operand after '%s'", ops[0])
	}
	spec := ops[0]
	if _, err := chmodMode(spec, 0); err != nil {
		return g.errf("chmod: invalid mode: '%s'", spec)
	}
	code := 0
	apply := func(op, h, gp string) {
		fi, err := os.Stat(h)
		if err != nil {
			code = g.errf("chmod: cannot access '%s': No such file or directory", op)
			return
		}
		if !g.owned(gp) {
			code = g.errf("chmod: changing permissions of '%s': Operation not permitted", op)
			return
		}
		m, _ := chmodMode(spec, fi.Mode()&os.ModePerm)
		_ = os.Chmod(h, m)
	}
	for _, op := range ops[1:] {
		h, gp := g.host(op), g.abs(op)
		apply(op, h, gp)
		if recursive && isDirPath(h) {
			_ = filepath.WalkDir(h, func(p string, d os.DirEntry, err error) error {
				if err != nil || p == h {
					return nil
				}
				rel, _ := filepath.Rel(h, p)
				apply(path.Join(op, filepath.ToSlash(rel)), p, path.Join(gp, filepath.ToSlash(rel)))
				return nil
			})
		}
	}
	return code
}

func (g *guest) rm(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-f": "f", "--force": "f", "-r": "r", "-R": "r", "--recursive": "r", "-v": "", "--verbose": "", "-d": "d", "--dir": "d"},
		map[string]string{})
	if bad != "" {
		return g.errf("rm: %s", bad)
	}
	if len(ops) == 0 {
		if fs.bools["f"] {
			return 0
		}
		return g.errf("rm: missing operand")
	}
	code := 0
	for _, op := range ops {
		gp, h := g.abs(op), g.host(op)
		fi, err := os.Lstat(h)
		switch {
		case gp == "/":
			code = g.errf("rm: it is dangerous to operate recursively on '/'")
		case err != nil:
			if !fs.bools["f"] {
				code = g.errf("rm: cannot remove '%s': No such file or directory", op)
			}
		case fi.IsDir() && !fs.bools["r"] && !fs.bools["d"]:
			code = g.errf("rm: cannot remove '%s': Is a directory", op)
		case !g.owned(path.Dir(gp)) && !g.owned(gp):
			code = g.errf("rm: cannot remove '%s': Permission denied", op)
		case fs.bools["r"]:
			if err := os.RemoveAll(h); err != nil {
				code = g.errf("rm: cannot remove '%s': %v", op, err)
			}
		default:
			if err := os.Remove(h); err != nil {
				code = g.errf("rm: cannot remove '%s': %v", op, err)
			}
		}
	}
	return code
}
