package qemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/vmimage"
	"github.com/faasdev/faas/pkg/vminit"
)

// The files of an instance's directory.
const (
	stateFile  = "instance.json"
	initrdFile = "initrd.cpio"
	layerFile  = "layer.qcow2"
)

// state is what the provider keeps of an instance in its directory
// (0600): enough to find, stop, resize and boot it again.
type state struct {
	ID       string `json:"id"`
	Function string `json:"function"`
	PID      int    `json:"pid"`
	PIDStart int64  `json:"pid_start"`
	Port     int    `json:"port"`
	Token    string `json:"token"`
	CPUs     int    `json:"cpus"`
	MemoryMB int64  `json:"memory_mb"`
	DiskMB   int64  `json:"disk_mb"`
	Image    string `json:"image"`
	// Accel is the instance's acceleration: kvm or tcg, and why.
	Accel Accel `json:"accel"`
	// BootMS is how long its last boot (or restore) took, QEMU's start to
	// the agent's answer.
	BootMS int64 `json:"boot_ms"`
	// Snapshot is the snapshot it was restored from, when it was.
	Snapshot string `json:"snapshot,omitempty"`
	// Pinned and InitTimeout are given to its agent (again at a resize).
	Pinned      bool          `json:"pinned,omitempty"`
	InitTimeout time.Duration `json:"init_timeout,omitempty"`
}

func (s state) endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.Port) }

func (p *Provider) readState(id string) (state, error) {
	var st state
	err := faashome.ReadJSON(filepath.Join(p.dir(id), stateFile), &st)
	return st, err
}

func (p *Provider) writeState(st state) error {
	return faashome.WriteJSON(filepath.Join(p.dir(st.ID), stateFile), st)
}

// writeInitrd writes a VM's initrd: the image's modules, the agent as
// /init, and (when set) the boot settings (no secret: the instance's
// config comes over the control port), three cpio archives in a row,
// which the kernel unpacks in turn.
func writeInitrd(path string, im vmimage.Image, agent string, boot []byte) error {
	// A new file, never one written through: an instance's initrd may be
	// a hard link to a snapshot's.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	mods, err := os.Open(im.Modules())
	if err != nil {
		return err
	}
	_, err = f.ReadFrom(mods)
	mods.Close()
	if err != nil {
		return err
	}
	a, err := os.Open(agent)
	if err != nil {
		return err
	}
	defer a.Close()
	fi, err := a.Stat()
	if err != nil {
		return err
	}
	c := vmimage.NewCPIO(f)
	c.File("init", 0o755, fi.Size(), a)
	if boot != nil {
		c.Dir("faas", 0o755)
		c.File(strings.TrimPrefix(vminit.BootPath, "/"), 0o600, int64(len(boot)), bytes.NewReader(boot))
	}
	if err := c.Close(); err != nil {
		return err
	}
	return f.Close()
}

// vmMemory is a VM's memory: the function's memory for each of its
// concurrent jobs, and 128 MiB for the guest's kernel and agent.
func vmMemory(memoryMB int64, concurrency int) int64 {
	return max(memoryMB*int64(max(concurrency, 1))+128, 256)
}

// Launch boots a VM for the instance and waits until its agent answers;
// whatever fails leaves no VM and no layer behind.
func (p *Provider) Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	if !instanceID.MatchString(inst.ID) {
		return inst, fault.Usagef("%q is not a valid instance id", inst.ID)
	}
	agent, err := p.agent()
	if err != nil {
		return inst, err
	}
	im, err := p.ensureImage(ctx)
	if err != nil {
		return inst, err
	}
	accel, err := p.Acceleration(ctx)
	if err != nil {
		return inst, err
	}
	p.sweep()
	dir := p.dir(inst.ID)
	_ = bundle.RemoveTree(dir) // an earlier instance of this id that died
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	if err := os.MkdirAll(faashome.Logs(p.Home), 0o700); err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	if err := p.makeShare(inst.ID); err != nil {
		return inst, fault.Platformf("launch %s: %w", inst.ID, err)
	}
	var tok [24]byte
	_, _ = rand.Read(tok[:])
	c := inv.Config
	st := state{ID: inst.ID, Function: inv.Function, Token: hex.EncodeToString(tok[:]), CPUs: max(c.CPUs, 1),
		MemoryMB: vmMemory(c.MemoryMB, c.Concurrency), DiskMB: c.DiskMB, Image: im.Key, Accel: accel, Pinned: c.MinInstances > 0}
	if accel.Name == "tcg" {
		// Emulated, a guest runs code about 15 times slower than the host
		// (more on a loaded one): Lambda's 10 s init phase becomes 2 min.
		st.InitTimeout = 2 * time.Minute
	}
	err = func() error {
		if err := p.place(inst.ID, inv); err != nil {
			return err
		}
		if p.restoreFromSnapshot(ctx, &st, im, agent, string(c.Runtime)) {
			return nil
		}
		if err := writeInitrd(filepath.Join(dir, initrdFile), im, agent, nil); err != nil {
			return fault.Platformf("launch %s: initrd: %w", inst.ID, err)
		}
		if err := p.createLayer(ctx, im.Rootfs(), "raw", dir, st.DiskMB); err != nil {
			return err
		}
		return p.boot(ctx, &st)
	}()
	if err != nil {
		p.kill(st)
		_ = bundle.RemoveTree(dir)
		return inst, err
	}
	inst.Endpoint, inst.Token, inst.PID, inst.PIDStart, inst.MemoryMB = st.endpoint(), st.Token, st.PID, st.PIDStart, st.MemoryMB
	return inst, nil
}

// layerSize is the virtual size of an instance's layer.
func layerSize(diskMB int64) string {
	if diskMB > 2048 {
		return strconv.FormatInt(diskMB, 10) + "M"
	}
	return "2G"
}

// createLayer makes the instance's copy-on-write layer in dir over a
// read-only backing file: the image's root file system (raw), or a
// snapshot's layer (qcow2).
func (p *Provider) createLayer(ctx context.Context, backing, format, dir string, diskMB int64) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, p.QemuImg, "create", "-q", "-f", "qcow2", "-F", format, "-b", backing,
		filepath.Join(dir, layerFile), layerSize(diskMB)).CombinedOutput()
	if err != nil {
		return fault.Platformf("qemu-img create: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process can
// take it before QEMU binds it: boot then tries another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tscOnce measures the host's TSC once per process.
var tscOnce = sync.OnceValue(tscKHz)

// boot boots an instance's VM from its own initrd and layer.
func (p *Provider) boot(ctx context.Context, st *state) error {
	im, err := vmimage.Open(p.ImageDir, st.Image)
	if err != nil {
		return err
	}
	return p.run(ctx, st, im, p.instanceSpec(*st, tscOnce()), nil)
}

// run starts QEMU for st as sp says (a new port unless st has one), lets
// prepare act on it (a restore: wait for the snapshot to load), gives the
// guest its instance over the control port and waits until the agent
// answers, within the boot deadline; on failure it kills QEMU by its pid.
// st gets the pid and the boot time.
func (p *Provider) run(ctx context.Context, st *state, im vmimage.Image, sp spec, prepare func(*vm) error) error {
	logPath := faashome.Log(p.Home, st.ID)
	keepPort := st.Port != 0
	var err error
	for attempt := 0; ; attempt++ {
		if !keepPort {
			if st.Port, err = freePort(); err != nil {
				return fault.Platformf("launch %s: %w", st.ID, err)
			}
		}
		start := time.Now()
		v, err := p.start(st, im, sp, logPath)
		if err != nil {
			return err
		}
		if err = p.writeState(*st); err != nil {
			err = fault.Platformf("launch %s: %w", st.ID, err)
		}
		if err == nil && prepare != nil {
			err = prepare(v)
		}
		if err == nil {
			err = sendConfig(v, p.instanceConfig(*st))
		}
		if err == nil {
			err = p.waitReady(ctx, *st, v.exited, logPath)
		} else if !errors.Is(err, errExited) {
			// Cut off by a QEMU that exited: its own word says why.
			select {
			case <-v.exited:
				err = exitedErr(st.ID, logPath)
			case <-time.After(time.Second):
			}
		}
		v.close()
		if err == nil {
			st.BootMS = time.Since(start).Milliseconds()
			return p.writeState(*st)
		}
		p.kill(*st)
		if errors.Is(err, errExited) && strings.Contains(err.Error(), "host forwarding rule") && attempt < 3 && !keepPort {
			continue // the port was taken meanwhile
		}
		return err
	}
}

// instanceConfig is what the guest is told of its instance: its identity
// and token, and a fresh seed and the time.
func (p *Provider) instanceConfig(st state) vminit.Config {
	seed := make([]byte, vminit.SeedSize)
	_, _ = rand.Read(seed)
	return vminit.Config{Instance: st.ID, Function: st.Function, Token: st.Token, Idle: p.Idle, Pinned: st.Pinned,
		InitTimeout: st.InitTimeout, Seed: seed, UnixNano: time.Now().UnixNano()}
}

// sendConfig gives the guest its config over the control port; the guest
// reads it once it is ready (QEMU passes nothing on before the guest
// opens the port).
func sendConfig(v *vm, cfg vminit.Config) error {
	_ = v.ctl.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := v.ctl.Write(cfg.Marshal()); err != nil {
		return fault.Platformf("give %s its config: %w", cfg.Instance, err)
	}
	return nil
}

// waitReady waits for the agent's /healthz.
func (p *Provider) waitReady(ctx context.Context, st state, exited <-chan struct{}, logPath string) error {
	c := client.New(st.endpoint(), st.Token)
	defer c.Close()
	deadline := time.Now().Add(p.BootTimeout)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.Health(hctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return exitedErr(st.ID, logPath)
		case <-ctx.Done():
			return fault.Platformf("launch %s: %w", st.ID, ctx.Err())
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			return fault.WithHint(fault.Platformf("%s did not answer within %s of QEMU's start (%s): killed", st.ID, p.BootTimeout, st.Accel.Name),
				"see "+logPath+"; a loaded host may need a longer "+BootTimeoutEnv)
		}
	}
}

// exitedErr says QEMU exited before its VM was ready, with its last word.
func exitedErr(id, logPath string) error {
	return fault.WithHint(fmt.Errorf("%w: %s did not boot: %s", errExited, id, lastLogLine(logPath)), "see "+logPath)
}

func lastLogLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	return lastLine(b)
}

// kill ends an instance's QEMU by its pid (checked against its start
// time): SIGTERM, then SIGKILL, and waits until it is gone.
func (p *Provider) kill(st state) {
	if st.PID <= 0 || !proc.Alive(st.PID, st.PIDStart) {
		return
	}
	_ = syscall.Kill(st.PID, syscall.SIGTERM)
	deadline := time.Now().Add(3 * time.Second)
	for proc.Alive(st.PID, st.PIDStart) && !zombie(st.PID) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(st.PID, syscall.SIGKILL)
			deadline = time.Now().Add(time.Hour)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// zombie says whether a process has exited and waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// running says whether an instance's QEMU runs.
func running(st state) bool {
	return st.PID > 0 && proc.Alive(st.PID, st.PIDStart) && !zombie(st.PID)
}

// sweep removes the directories (layers) of instances whose QEMU has gone
// (an idle guest powers off; the engine forgets such an instance without
// stopping it). Directories without a state yet are being launched.
func (p *Provider) sweep() {
	dirs, _ := filepath.Glob(filepath.Join(p.Home, "run", "qemu", "*", stateFile))
	for _, f := range dirs {
		id := filepath.Base(filepath.Dir(f))
		st, err := p.readState(id)
		if err == nil && !running(st) && time.Since(modTime(f)) > 5*time.Second {
			_ = bundle.RemoveTree(p.dir(id))
		}
	}
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
