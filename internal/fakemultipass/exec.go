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
	glibc          string
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
	g := &guest{c: c, name: name, root: c.root(name), ip: in.IP, glibc: in.GLIBC, cwd: guestHome, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}
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
		return g.cloudInitStatus(args)
	}
	return g.hostCmd(argv)
}

// cloudInitStatus is `cloud-init status [--wait] [--long]`: the first boot
// is over when an instance is listed; it ended in error when something
// failed (a package apt could not install).
func (g *guest) cloudInitStatus(args []string) int {
	if len(args) == 0 || args[0] != "status" {
		return g.errf("cloud-init (stand-in): only 'status' is supported")
	}
	s, err := g.c.open()
	if err != nil {
		return g.errf("cloud-init: %v", err)
	}
	in := s.find(g.name)
	s.close()
	if in != nil && len(in.CloudInitErrors) > 0 {
		fmt.Fprintln(g.stdout, "status: error")
		if slices.Contains(args, "--long") {
			fmt.Fprintf(g.stdout, "errors:\n\t- %s\n", strings.Join(in.CloudInitErrors, "\n\t- "))
		}
		return 1
	}
	fmt.Fprintln(g.stdout, "status: done")
	return 0
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
	if msg, code := execRefusal(prog, argv[0], g.glibc); msg != "" {
		fmt.Fprintln(g.stderr, msg)
		return code
	}
	home := guestHome
	if g.sudo {
		home = "/root"
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "PWD=") || strings.HasPrefix(kv, "PATH=")
	})
	env = append(env, "HOME="+filepath.Join(g.root, home), guestPathEnv(g.root))
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
