package sandbox

import (
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// initShedDelay is how long after the function's start its init sheds.
const initShedDelay = time.Second

// The jail. A jailed function's process tree is, from the agent down:
//
//	faas __faas-sandbox -jail …   (init) new mount, PID, network, IPC and UTS
//	                              namespaces; still root on the host: it joins
//	                              the cgroups, builds the root (an empty tmpfs
//	                              with read-only binds of what the runtime
//	                              needs), pivots into it, and stays PID 1:
//	                              reaps, forwards signals, and takes every
//	                              process of the jail with it when it exits
//	                              (as C, reaper.c, once the function runs,
//	                              unless it forwards egress)
//	└ faas __faas-sandbox -exec … a new user namespace, as the instance's own
//	                              unprivileged host uid, no capabilities:
//	                              sets no_new_privs, loads the seccomp filter,
//	                              and execs the function
//
// The init is our code: it runs before the function, with the host's
// privileges it needs to build the jail and nothing of the function's.

// Jail is what a jailed process gets beyond its program.
type Jail struct {
	// UID is the unprivileged host uid (and gid) the function runs as.
	UID int
	// Mounts are bound read-only into the jail's root.
	Mounts []Mount
	// TmpMB sizes the writable /tmp (a tmpfs).
	TmpMB int64
	// Egress, when set, is a SOCK_SEQPACKET socket: the jail's init
	// listens on EgressProxy inside the jail and hands each connection's
	// fd over it, to whoever proxies them out (the agent).
	Egress *os.File
}

// EgressProxy is where a jailed function with a network reaches its
// egress proxy (HTTP_PROXY): on its own loopback, served by its init.
const EgressProxy = "127.0.0.1:3128"

// Mount binds Source (a host path) at Target in the jail, read-only
// unless Writable.
type Mount struct {
	Source, Target string
	Writable       bool
}

// JailDir is where a function's code is in its jail (Lambda's /var/task).
const JailDir = "/var/task"

// JailTmp is the jail's writable directory, the function's working
// directory, HOME and TMPDIR.
const JailTmp = "/tmp"

// UIDFor is the host uid of an instance's functions: one of a range of
// 65536 above any uid a distribution hands out, named by the instance.
// Two instances that share one can still not reach each other: each has
// its own PID namespace, root and /tmp.
func UIDFor(instance string) int { return 200000 + int(crc32.ChecksumIEEE([]byte(instance))%65536) }

// systemBinds are what every runtime may need of the host, read-only: the
// system's programs and libraries, and the few files of /etc that the C
// library, Python, Node and TLS read. Nothing else of the host is there.
var systemBinds = []string{
	"/usr", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/ssl",
	"/etc/ca-certificates", "/etc/alternatives", "/etc/mime.types",
}

// devices are the device nodes a jail has.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// mergedUsr are top-level directories that are symlinks into /usr on a
// merged-/usr system, and bound directories elsewhere.
var mergedUsr = []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// jailArgs are the shim's arguments for a jail.
func (j Jail) args(statusFD, egressFD, secretsFD int) []string {
	a := []string{"-jail", "-uid", strconv.Itoa(j.UID), "-tmp", strconv.FormatInt(max(j.TmpMB, 1), 10),
		"-status", strconv.Itoa(statusFD)}
	if egressFD > 0 {
		a = append(a, "-egress", strconv.Itoa(egressFD))
	}
	if secretsFD > 0 {
		a = append(a, "-secrets", strconv.Itoa(secretsFD))
	}
	for _, m := range j.Mounts {
		flag := "-bind"
		if m.Writable {
			flag = "-bindrw"
		}
		a = append(a, flag, m.Source+"="+m.Target)
	}
	return a
}

// jailConfig is a jail as the shim parsed it.
type jailConfig struct {
	uid      int
	tmpMB    int64
	statusFD int
	egressFD int
	// secretsFD, when set, holds the secrets to mount at SecretsDir.
	secretsFD int
	mounts    []Mount
	extra     int // fds from 3 on that the function gets
}

// runJail is the init: build the jail, start the function in it, and wait.
// It returns the shim's exit code; the function's end is also written to
// the status fd, as "exit N" or "signal N".
func runJail(c jailConfig, prog []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, shimPrefix+format+"\n", a...)
		return shimFailure
	}
	// The root must be traversable by the function's uid whatever umask the
	// init inherited (an agent narrows its own while it creates a socket).
	syscall.Umask(0o022)
	status := os.NewFile(uintptr(c.statusFD), "status")
	// Nothing the agent handed down leaks into the function but its stdio
	// and its extra fds: the status pipe and the egress socket stay the
	// init's. One close_range(CLOEXEC) call; a loop on kernels before 5.11.
	const sysCloseRange, closeRangeCloexec = 436, 1 << 2
	if _, _, e := syscall.Syscall(sysCloseRange, uintptr(3+c.extra), ^uintptr(0), closeRangeCloexec); e != 0 {
		for fd := 3 + c.extra; fd < 1024; fd++ {
			syscall.CloseOnExec(fd)
		}
	}
	if err := buildRoot(c); err != nil {
		return fail("build the jail: %v", err)
	}
	_ = syscall.Sethostname([]byte("faas"))
	if err := loopbackUp(); err != nil {
		return fail("loopback: %v", err)
	}
	if c.egressFD > 0 {
		if err := forwardEgress(os.NewFile(uintptr(c.egressFD), "egress")); err != nil {
			return fail("egress: %v", err)
		}
	}
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	for i := range c.extra {
		files = append(files, os.NewFile(uintptr(3+i), "extra"))
	}
	id := []syscall.SysProcIDMap{{ContainerID: c.uid, HostID: c.uid, Size: 1}}
	// Signals to forward are caught before the function exists, so that
	// none is lost between its start and its pid being known.
	forward, err := catchSignals()
	if err != nil {
		return fail("catch signals: %v", err)
	}
	child, err := os.StartProcess("/proc/self/exe", append([]string{"faas", SandboxArg, "-exec", "--"}, prog...), &os.ProcAttr{
		Dir: JailTmp, Env: os.Environ(), Files: files,
		Sys: &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: id, GidMappings: id,
			Credential: &syscall.Credential{Uid: uint32(c.uid), Gid: uint32(c.uid), NoSetGroups: true},
		},
	})
	if err != nil {
		return fail("start %s in the jail: %v", prog[0], err)
	}
	forward(child.Pid)
	// The function's extra fds are its own: the init keeps no copy, so that
	// they close when the function ends (and not at some garbage
	// collection of the init's, whose finalizers would close them).
	for _, f := range files[3:] {
		f.Close()
	}
	// With no egress to forward, all that is left is to wait: the init
	// becomes the C reaper (reaper.c), a few pages instead of a Go runtime.
	// Where it cannot (a build without cgo), it waits as Go.
	if c.egressFD == 0 {
		_ = becomeReaper(child.Pid, c.statusFD)
	}
	// From here the init waits: what it held to start up is given back,
	// once the function is under way (not on the cold start's path), so
	// that a warm worker's jail costs little beside the worker.
	time.AfterFunc(initShedDelay, func() { Shed() })
	// PID 1 reaps every orphan of the jail, until the function itself ends.
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fail("wait: %v", err)
		}
		if pid != child.Pid {
			continue
		}
		// Exiting ends the PID namespace: the kernel kills whatever the
		// function left behind (daemons, double forks).
		switch {
		case ws.Exited():
			fmt.Fprintf(status, "exit %d\n", ws.ExitStatus())
			return ws.ExitStatus()
		case ws.Signaled():
			fmt.Fprintf(status, "signal %d\n", int(ws.Signal()))
			return 128 + int(ws.Signal())
		}
	}
}

// execJailed is the last step, in the function's own user namespace: no
// new privileges, the seccomp filter, then the function.
func execJailed(prog []string) int {
	runtime.LockOSThread() // the filter is loaded on this thread, which execs
	if err := confineThread(); err != nil {
		fmt.Fprintf(os.Stderr, shimPrefix+"confine: %v\n", err)
		return shimFailure
	}
	err := syscall.Exec(prog[0], prog, os.Environ())
	fmt.Fprintf(os.Stderr, shimPrefix+"exec %s: %v\n", prog[0], err)
	return shimFailure
}

// buildRoot makes the jail's root in the working directory (a job
// directory of the agent's) and pivots into it.
func buildRoot(c jailConfig) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	// Nothing mounted here propagates back to the host, and the other way.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := syscall.Mount("faas-root", root, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755,size=1m,nr_inodes=4096"); err != nil {
		return fmt.Errorf("root tmpfs: %w", err)
	}
	in := func(p string) string { return filepath.Join(root, p) }
	for _, d := range mergedUsr {
		target, err := os.Readlink(d)
		switch {
		case err == nil:
			if err := os.Symlink(target, in(d)); err != nil {
				return err
			}
		case fileExists(d):
			if err := bindRO(d, in(d)); err != nil {
				return err
			}
		}
	}
	for _, p := range systemBinds {
		if fileExists(p) {
			if err := bindRO(p, in(p)); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(in("/dev"), 0o755); err != nil {
		return err
	}
	for _, d := range devices {
		if err := bind("/dev/"+d, in("/dev/"+d), syscall.MS_NOSUID|syscall.MS_NOEXEC); err != nil {
			return err
		}
	}
	for _, l := range [][2]string{{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}} {
		if err := os.Symlink(l[0], in("/dev/"+l[1])); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(in("/proc"), 0o555); err != nil {
		return err
	}
	if err := syscall.Mount("proc", in("/proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := os.MkdirAll(in(JailTmp), 0o755); err != nil {
		return err
	}
	opts := fmt.Sprintf("mode=1777,size=%dm,nr_inodes=%d", c.tmpMB, max(c.tmpMB*256, 1024))
	if err := syscall.Mount("faas-tmp", in(JailTmp), "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	// After /tmp, so that a mount under /tmp is not hidden by it.
	for _, m := range c.mounts {
		flags := uintptr(syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV)
		if m.Writable {
			flags = syscall.MS_NOSUID | syscall.MS_NODEV
		}
		if err := bind(m.Source, in(m.Target), flags); err != nil {
			return err
		}
	}
	if err := writeUsers(root, c.uid); err != nil {
		return err
	}
	if c.secretsFD > 0 {
		if err := mountSecrets(root, c.secretsFD, c.uid); err != nil {
			return err
		}
	}
	if err := os.Mkdir(in(".old"), 0o700); err != nil {
		return err
	}
	if err := syscall.PivotRoot(root, in(".old")); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return err
	}
	if err := syscall.Unmount("/.old", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("leave the host's root: %w", err)
	}
	if err := os.Remove("/.old"); err != nil {
		return err
	}
	// The root itself (directories, symlinks, passwd) is read-only too.
	if err := syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("make the root read-only: %w", err)
	}
	return syscall.Chdir(JailTmp)
}

// writeUsers gives the jail an /etc/passwd and /etc/group that name its
// user (after Lambda's sbx_user) and root, and nothing of the host's.
func writeUsers(root string, uid int) error {
	u := strconv.Itoa(uid)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		return err
	}
	passwd := "root:x:0:0:root:/root:/usr/sbin/nologin\nsbx_user:x:" + u + ":" + u + ":faas function:" + JailTmp + ":/usr/sbin/nologin\n"
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "etc", "group"), []byte("root:x:0:\nsbx_user:x:"+u+":\n"), 0o644)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// bindRO binds src at dst read-only, nosuid and nodev.
func bindRO(src, dst string) error {
	return bind(src, dst, syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV)
}

// bind binds src at dst (creating a file or directory to bind onto) and
// applies flags with a second, remounting call, as a bind ignores them
// (bubblewrap's bind-mount.c).
func bind(src, dst string, flags uintptr) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if fi.IsDir() {
		err = os.MkdirAll(dst, 0o755)
	} else if f, ferr := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644); ferr == nil {
		err = f.Close()
	} else {
		err = ferr
	}
	if err != nil {
		return err
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	if err := syscall.Mount("", dst, "", syscall.MS_REMOUNT|syscall.MS_BIND|flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", src, err)
	}
	return nil
}

// loopbackUp brings lo up in the jail's network namespace: a function may
// talk to itself; nothing else is reachable (no other interface, no route).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return e
	}
	req.flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return e
	}
	return nil
}

// parseStatus reads what the init wrote of the function's end.
func parseStatus(b []byte) (code *int, signal syscall.Signal, ok bool) {
	kind, n, found := strings.Cut(strings.TrimSpace(string(b)), " ")
	v, err := strconv.Atoi(n)
	if !found || err != nil {
		return nil, 0, false
	}
	switch kind {
	case "exit":
		return &v, 0, true
	case "signal":
		return nil, syscall.Signal(v), true
	}
	return nil, 0, false
}

// ProbeJail runs /bin/true in a jail, to tell whether this host really
// can jail (for `faas doctor`): nil when it ran and exited 0.
func (r *Runner) ProbeJail() error {
	if !r.Sandbox.Jail {
		return errors.New(r.Sandbox.JailWhy)
	}
	var stderr strings.Builder
	errR, errW, err := os.Pipe()
	if err != nil {
		return err
	}
	p, err := r.Start(Spec{ID: "probe-" + strconv.Itoa(os.Getpid()), Argv: []string{"/bin/true"}, MemoryMB: 64, CPUs: 1,
		Stderr: errW, Jail: &Jail{UID: UIDFor("probe"), TmpMB: 1}})
	errW.Close()
	if err != nil {
		errR.Close()
		return err
	}
	defer p.Release()
	b := make([]byte, 4096)
	n, _ := errR.Read(b)
	errR.Close()
	stderr.Write(b[:n])
	e := p.Exit(p.Cmd.Wait())
	if e.Code == nil || *e.Code != 0 {
		return fmt.Errorf("a jailed /bin/true failed (%+v): %s", e, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// forwardEgress listens on EgressProxy in the jail's network namespace and
// passes every connection, as a file descriptor, over to (the agent's
// proxy, in the host's namespace). The init is the only process that can:
// the function has no way out but through that listener.
func forwardEgress(to *os.File) error {
	c, err := net.FileConn(to)
	to.Close()
	if err != nil {
		return err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("fd is not a unix socket")
	}
	l, err := net.Listen("tcp", EgressProxy)
	if err != nil {
		return err
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			f, err := conn.(*net.TCPConn).File()
			conn.Close()
			if err != nil {
				continue
			}
			_, _, err = uc.WriteMsgUnix([]byte{0}, syscall.UnixRights(int(f.Fd())), nil)
			f.Close()
			if err != nil {
				l.Close()
				return
			}
		}
	}()
	return nil
}
