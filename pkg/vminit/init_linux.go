package vminit

import (
	"bytes"
	"encoding/json"
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

	"golang.org/x/sys/unix"
)

// Main runs as PID 1 and never returns: it powers the VM off.
func Main() {
	err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faas-vminit: "+err.Error())
	}
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "faas-vminit: "+format+"\n", args...)
}

func run() error {
	for _, m := range []struct{ src, dst, fs string }{
		{"devtmpfs", "/dev", "devtmpfs"}, {"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"},
	} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	if cmdline, _ := os.ReadFile("/proc/cmdline"); bytes.Contains(cmdline, []byte(ProbeArg)) {
		// An acceleration probe: the kernel got here, that is all it asks.
		fmt.Fprintln(os.Stderr, ProbeMarker)
		return nil
	}
	if err := loadModules(); err != nil {
		return err
	}
	var boot Boot
	if b, err := os.ReadFile(BootPath); err == nil {
		if err := json.Unmarshal(b, &boot); err != nil {
			return fmt.Errorf("the boot settings: %w", err)
		}
	}
	if err := network(); err != nil {
		return err
	}
	if err := mountRoot(); err != nil {
		return err
	}
	agent, err := startAgent()
	if err != nil {
		return err
	}
	if len(boot.Warm) > 0 {
		warm(boot.Warm)
	}
	unix.Sync()
	cfg, err := awaitInstance()
	if err != nil {
		return err
	}
	if err := personalize(cfg); err != nil {
		return err
	}
	logf("instance %s: clock set, random pool reseeded, shares mounted", cfg.Instance)
	if err := agent.give(cfg); err != nil {
		return err
	}
	return agent.reap()
}

func loadModules() error {
	order, err := os.ReadFile(filepath.Join(ModulesDir, "order"))
	if err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	for _, name := range strings.Fields(string(order)) {
		f, err := os.Open(filepath.Join(ModulesDir, name))
		if err != nil {
			return fmt.Errorf("module %s: %w", name, err)
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("load module %s: %w", name, err)
		}
		_ = os.Remove(filepath.Join(ModulesDir, name)) // give the memory back
	}
	return nil
}

// waitFor waits for a path the kernel creates as a device is probed.
func waitFor(path string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", path, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// network brings up lo and eth0 at QEMU user networking's guest address:
// the host forwards a loopback port to the agent there.
func network() error {
	if err := waitFor("/sys/class/net/eth0", 10*time.Second); err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	defer unix.Close(fd)
	up := func(name string) error {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return err
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	}
	if err := up("lo"); err != nil {
		return fmt.Errorf("network lo: %w", err)
	}
	for _, a := range []struct {
		req uint
		ip  [4]byte
	}{{unix.SIOCSIFADDR, [4]byte{10, 0, 2, 15}}, {unix.SIOCSIFNETMASK, [4]byte{255, 255, 255, 0}}} {
		ifr, err := unix.NewIfreq("eth0")
		if err != nil {
			return err
		}
		if err := ifr.SetInet4Addr(a.ip[:]); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, a.req, ifr); err != nil {
			return fmt.Errorf("network eth0: %w", err)
		}
	}
	if err := up("eth0"); err != nil {
		return fmt.Errorf("network eth0: %w", err)
	}
	return nil
}

// mountRoot mounts the instance's disk and moves into it (the shares
// come once the instance is known: personalize).
func mountRoot() error {
	if err := waitFor("/dev/vda", 10*time.Second); err != nil {
		return err
	}
	_ = os.MkdirAll("/newroot", 0o755)
	if err := unix.Mount("/dev/vda", "/newroot", "ext4", 0, ""); err != nil {
		return fmt.Errorf("mount the root: %w", err)
	}
	for _, m := range []struct{ dst, fs, data string }{
		{"/newroot/run", "tmpfs", "mode=0755"}, {"/newroot/tmp", "tmpfs", "mode=1777"},
	} {
		if err := unix.Mount(m.fs, m.dst, m.fs, unix.MS_NOSUID|unix.MS_NODEV, m.data); err != nil {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		if err := unix.Mount(d, "/newroot"+d, "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move %s: %w", d, err)
		}
	}
	_ = unix.Mount("cgroup2", "/newroot/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	// The agent runs from the root's /run (a tmpfs), copied from here.
	if err := os.MkdirAll("/newroot"+filepath.Dir(AgentPath), 0o755); err != nil {
		return err
	}
	if err := copyFile("/init", "/newroot"+AgentPath, 0o755); err != nil {
		return fmt.Errorf("copy the agent: %w", err)
	}
	if err := os.Chdir("/newroot"); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move the root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return os.Chdir("/")
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// agentProc is the agent init started, waiting for its instance on a
// pipe.
type agentProc struct {
	cmd    *exec.Cmd
	config *os.File
}

// startAgent starts `faas agent` before the instance is known: it starts
// up (its runtime, the sandbox's probes) and then reads its instance from
// fd 3, a pipe init writes once the host has given it one. A snapshot
// taken meanwhile holds it started, but holds no instance, token or
// listening socket.
func startAgent() (*agentProc, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	defer r.Close()
	args := []string{"faas", "agent", "--home", GuestHome, "--addr", "0.0.0.0:" + strconv.Itoa(AgentPort), "--config-fd", "3"}
	cmd := &exec.Cmd{Path: AgentPath, Args: args, Stdout: os.Stdout, Stderr: os.Stderr, Env: guestEnv(), ExtraFiles: []*os.File{r}}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	logf("agent started")
	return &agentProc{cmd: cmd, config: w}, nil
}

// give hands the agent its instance (the seed stays with init).
func (a *agentProc) give(cfg Config) error {
	cfg.Seed = nil
	_, err := a.config.Write(cfg.Marshal())
	a.config.Close()
	if err != nil {
		return fmt.Errorf("give the agent its instance: %w", err)
	}
	return nil
}

// reap reaps every process until the agent exits.
func (a *agentProc) reap() error {
	cmd := a.cmd
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		if pid == cmd.Process.Pid {
			logf("agent exited (%v): powering off", syscall.WaitStatus(ws))
			return nil
		}
	}
}
