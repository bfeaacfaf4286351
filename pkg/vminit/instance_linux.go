package vminit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guestEnv is the environment of what init starts.
func guestEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
}

// warm runs a runtime's interpreter once (what a worker imports), so that
// its files are in the page cache of a snapshot taken afterwards. A
// failure only costs the warmth.
func warm(argv []string) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		logf("warm %s: %v", argv[0], err)
		return
	}
	start := time.Now()
	cmd := &exec.Cmd{Path: path, Args: argv, Env: guestEnv(), Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Run(); err != nil {
		logf("warm %s: %v", argv[0], err)
		return
	}
	logf("warmed %s in %s", argv[0], time.Since(start).Round(time.Millisecond))
}

// ctlPort is the device of the virtio-serial port named CtlPort (there
// is no udev to make /dev/virtio-ports/<name>).
func ctlPort() (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil && strings.TrimSpace(string(b)) == CtlPort {
				dev := "/dev/" + filepath.Base(filepath.Dir(n))
				if _, err := os.Stat(dev); err == nil {
					return dev, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no virtio-serial port %s within 10s", CtlPort)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitLimit bounds the wait for an instance: faas sends it as soon as
// the VM runs (a boot) or is restored.
const awaitLimit = 10 * time.Minute

// awaitInstance says on the control port that init is ready and reads
// the instance's config from it. A VM snapshotted while it waits here
// reads its own config once restored. A read finds EOF while no host
// end is connected: it waits and reads again.
func awaitInstance() (Config, error) {
	var cfg Config
	dev, err := ctlPort()
	if err != nil {
		return cfg, err
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return cfg, fmt.Errorf("control port: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(ReadyLine); err != nil {
		return cfg, fmt.Errorf("control port: %w", err)
	}
	logf("ready for an instance")
	return readConfig(f, awaitLimit, 10*time.Millisecond)
}

// readConfig reads the instance's config, one JSON line, from the
// control port, within limit. A read finds EOF while no host end is
// connected: it waits pause and reads again. Nobody coming (the faas that
// started this VM died before it gave the instance, or before it saved
// the VM) powers the VM off rather than leaving it idle forever; a
// restored guest's clock has not counted the time its snapshot lay on
// disk.
func readConfig(r io.Reader, limit, pause time.Duration) (Config, error) {
	var cfg Config
	deadline := time.Now().Add(limit)
	var line []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(line, []byte("\n")) {
		if time.Now().After(deadline) {
			return cfg, fmt.Errorf("no instance within %s: nobody is coming", limit)
		}
		n, err := r.Read(buf)
		line = append(line, buf[:n]...)
		switch {
		case len(line) > 1<<20:
			return cfg, errors.New("control port: config too long")
		case n == 0 && (err == nil || errors.Is(err, io.EOF)):
			time.Sleep(pause)
		case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, unix.EINTR):
			return cfg, fmt.Errorf("control port: %w", err)
		}
	}
	line = line[:bytes.IndexByte(line, '\n')]
	if err := json.Unmarshal(line, &cfg); err != nil {
		return cfg, fmt.Errorf("the instance's config: %w", err)
	}
	if cfg.Instance == "" || cfg.Token == "" || len(cfg.Seed) < 32 {
		return cfg, errors.New("the instance's config has no id, token or seed")
	}
	return cfg, nil
}

// personalize makes the guest this instance's: the host's time, the
// host's seed mixed into the kernel's random pool and the generator
// reseeded from it, and the instance's shares mounted.
func personalize(cfg Config) error {
	if cfg.UnixNano > 0 {
		ts := unix.NsecToTimespec(cfg.UnixNano)
		if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
			return fmt.Errorf("set the clock: %w", err)
		}
	}
	if err := reseed(cfg.Seed); err != nil {
		return fmt.Errorf("reseed the random number generator: %w", err)
	}
	for _, m := range []struct{ tag, dst string }{{CodeTag, GuestHome + "/code"}, {EnvsTag, GuestHome + "/envs"}} {
		_ = os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.tag, m.dst, "9p", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "trans=virtio,version=9p2000.L,cache=loose"); err != nil {
			return fmt.Errorf("mount %s: %w", m.tag, err)
		}
	}
	return nil
}

// reseed credits seed to the kernel's input pool (RNDADDENTROPY) and
// makes the generator reseed from it at once (RNDRESEEDCRNG): every
// getrandom, /dev/urandom read and process started from here on (the
// agent, its workers: Python's and Node's seeds and hash keys) draws on
// it, not on the state a snapshot cloned.
func reseed(seed []byte) error {
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }
	info := make([]byte, 8+len(seed))
	binary.NativeEndian.PutUint32(info[0:], uint32(8*len(seed)))
	binary.NativeEndian.PutUint32(info[4:], uint32(len(seed)))
	copy(info[8:], seed)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDADDENTROPY, uintptr(unsafe.Pointer(&info[0]))); e != 0 {
		return fmt.Errorf("RNDADDENTROPY: %w", e)
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDRESEEDCRNG, 0); e != 0 {
		return fmt.Errorf("RNDRESEEDCRNG: %w", e)
	}
	return nil
}
