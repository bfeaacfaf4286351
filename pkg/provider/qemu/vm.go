package qemu

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/vmimage"
	"github.com/faasdev/faas/pkg/vminit"
)

// spec is what one run of a VM's QEMU is made of beside its state: its
// initrd, disk layer, shares and kernel command line, and the snapshot it
// restores (an incoming migration), if any.
type spec struct {
	initrd, layer, share, cmdline string
	incoming                      string
}

// instanceSpec is a boot of an instance from its own directory.
func (p *Provider) instanceSpec(st state, tscKHz int64) spec {
	dir := p.dir(st.ID)
	return spec{initrd: filepath.Join(dir, initrdFile), layer: filepath.Join(dir, layerFile), share: p.share(st.ID),
		cmdline: kernelCmdline(st.Accel, tscKHz)}
}

// kernelCmdline is the guest kernel's command line.
func kernelCmdline(a Accel, tscKHz int64) string {
	cmdline := "console=ttyS0 panic=-1 quiet"
	if a.Name == "tcg" && tscKHz > 0 {
		cmdline += " tsc_early_khz=" + strconv.FormatInt(tscKHz, 10)
	}
	return cmdline
}

// The descriptors QEMU inherits: faas' control port and QMP monitor
// (socket pairs), and the snapshot it restores.
const (
	ctlFD      = 3
	monFD      = 4
	incomingFD = 5
)

// args is QEMU's command line for a VM. A snapshot restores only into
// the same devices in the same order: a snapshot's VM and the instances
// restored from it get this same list, but for their files, port and
// -incoming.
func args(st state, im vmimage.Image, sp spec) []string {
	a := []string{"-M", "microvm"}
	a = append(a, st.Accel.args()...)
	netdev := "user,id=net0,restrict=on"
	if st.Port != 0 {
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-%s:%d", st.Port, vminit.GuestIP, vminit.AgentPort)
	}
	a = append(a,
		"-m", strconv.FormatInt(st.MemoryMB, 10), "-smp", strconv.Itoa(st.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-name", st.ID,
		"-kernel", im.Kernel(), "-initrd", sp.initrd, "-append", sp.cmdline,
		"-chardev", "socket,id=mon,fd="+strconv.Itoa(monFD), "-mon", "chardev=mon,mode=control",
		"-drive", "id=root,file="+sp.layer+",format=qcow2,if=none,discard=unmap",
		"-device", "virtio-blk-device,drive=root",
		"-fsdev", "local,id=code,path="+filepath.Join(sp.share, "code")+",security_model=none,readonly=on",
		"-device", "virtio-9p-device,fsdev=code,mount_tag="+vminit.CodeTag,
		"-fsdev", "local,id=envs,path="+faashome.Envs(sp.share)+",security_model=none,readonly=on",
		"-device", "virtio-9p-device,fsdev=envs,mount_tag="+vminit.EnvsTag,
		"-netdev", netdev,
		"-device", "virtio-net-device,netdev=net0",
		"-device", "virtio-serial-device",
		"-chardev", "socket,id=ctl,fd="+strconv.Itoa(ctlFD),
		"-device", "virtserialport,chardev=ctl,name="+vminit.CtlPort,
	)
	if sp.incoming != "" {
		a = append(a, "-incoming", "fd:"+strconv.Itoa(incomingFD))
	}
	return a
}

// vm is a QEMU being launched: its exit, and faas' ends of its control
// port and QMP monitor, which faas closes once it is launched.
type vm struct {
	exited <-chan struct{}
	ctl    net.Conn
	mon    net.Conn
}

func (v *vm) close() {
	v.ctl.Close()
	v.mon.Close()
}

// start starts QEMU detached (its own session: it outlives this faas),
// its console and errors appended to logPath.
func (p *Provider) start(st *state, im vmimage.Image, sp spec, logPath string) (*vm, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fault.Platformf("launch %s: %w", st.ID, err)
	}
	defer logf.Close()
	how := "booting"
	if sp.incoming != "" {
		how = "restoring"
	}
	fmt.Fprintf(logf, "faas: %s %s: %d CPUs, %d MiB, acceleration %s (%s)\n", how, st.ID, st.CPUs, st.MemoryMB, st.Accel.Name, st.Accel.Why)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	ctl, ctlQ, err := socketPair()
	if err != nil {
		return nil, fault.Platformf("launch %s: %w", st.ID, err)
	}
	defer ctlQ.Close()
	mon, monQ, err := socketPair()
	if err != nil {
		ctl.Close()
		return nil, fault.Platformf("launch %s: %w", st.ID, err)
	}
	defer monQ.Close()
	v := &vm{ctl: ctl, mon: mon}
	extra := []*os.File{ctlQ, monQ}
	if sp.incoming != "" {
		f, err := os.Open(sp.incoming)
		if err != nil {
			v.close()
			return nil, fault.Platformf("launch %s: %w", st.ID, err)
		}
		defer f.Close()
		extra = append(extra, f)
	}
	cmd := &exec.Cmd{Path: p.Bin, Args: append([]string{Binary}, args(*st, im, sp)...), Stdin: devnull, Stdout: logf, Stderr: logf,
		ExtraFiles: extra, SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		v.close()
		return nil, fault.Platformf("launch %s: %w", st.ID, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // reaped while this process runs
		close(exited)
	}()
	v.exited = exited
	st.PID, st.PIDStart = cmd.Process.Pid, proc.Start(cmd.Process.Pid)
	return v, nil
}
