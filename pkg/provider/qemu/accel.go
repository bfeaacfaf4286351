package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/vmimage"
	"github.com/faasdev/faas/pkg/vminit"
)

// Accel is how a VM's CPU runs, and why.
type Accel struct {
	Name string `json:"name"` // kvm or tcg
	Why  string `json:"why"`
}

// args are QEMU's arguments for it.
func (a Accel) args() []string {
	if a.Name == "kvm" {
		return []string{"-accel", "kvm", "-cpu", "host"}
	}
	return []string{"-accel", "tcg,thread=multi", "-cpu", "max"}
}

// hardwareVirt says whether the CPU flags show vmx or svm, and what else
// says KVM is not the real thing here.
func hardwareVirt() (bool, string) {
	b, _ := os.ReadFile("/proc/cpuinfo")
	flags := " " + strings.ReplaceAll(string(b), "\t", " ") + " "
	if strings.Contains(flags, " vmx ") || strings.Contains(flags, " svm ") {
		return true, ""
	}
	why := "the CPU flags show no vmx or svm"
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		why += " (/dev/kvm is kvm_pvm, software nested virtualisation that cannot run a stock kernel)"
	} else if _, err := os.Stat("/dev/kvm"); err == nil {
		why += " (/dev/kvm exists, but without them it is not hardware virtualisation)"
	}
	return false, why
}

// chooseAccel picks KVM only when the CPU flags show vmx or svm, /dev/kvm
// opens and a probe boot of the image's kernel under it succeeds (the
// answer kept per image and QEMU in run/qemu/accel.json); TCG otherwise.
// FAAS_QEMU_ACCEL forces one.
func (p *Provider) chooseAccel(ctx context.Context, im vmimage.Image, agent string) Accel {
	if a := os.Getenv(AccelEnv); a != "" {
		return Accel{Name: a, Why: AccelEnv + "=" + a}
	}
	hw, why := hardwareVirt()
	if !hw {
		return Accel{Name: "tcg", Why: why}
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return Accel{Name: "tcg", Why: "vmx/svm, but /dev/kvm: " + err.Error()}
	}
	f.Close()
	cache := filepath.Join(p.Home, "run", "qemu", "accel.json")
	var cached struct {
		Key   string `json:"key"`
		Accel Accel  `json:"accel"`
	}
	key := im.Key + " " + p.Bin
	if faashome.ReadJSON(cache, &cached) == nil && cached.Key == key {
		return cached.Accel
	}
	a := Accel{Name: "kvm", Why: "vmx/svm, /dev/kvm, and a probe boot succeeded"}
	if err := p.probe(ctx, im, agent); err != nil {
		a = Accel{Name: "tcg", Why: "vmx/svm and /dev/kvm, but a probe boot under KVM failed: " + err.Error()}
	}
	cached.Key, cached.Accel = key, a
	_ = faashome.WriteJSON(cache, cached)
	return a
}

// probe boots the image's kernel under KVM into /init, which only says
// so and powers off.
func (p *Provider) probe(ctx context.Context, im vmimage.Image, agent string) error {
	dir, err := os.MkdirTemp(filepath.Join(p.Home, "run", "qemu"), ".probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := writeInitrd(initrd, im, agent, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := append([]string{"-M", "microvm"}, Accel{Name: "kvm"}.args()...)
	args = append(args, "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", im.Kernel(), "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet "+vminit.ProbeArg)
	out, err := exec.CommandContext(ctx, p.Bin, args...).CombinedOutput()
	if bytes.Contains(out, []byte(vminit.ProbeMarker)) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no answer within 20s")
	}
	return fmt.Errorf("%v: %s", err, lastLine(out))
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 300 {
		b = b[len(b)-300:]
	}
	return string(b)
}

// Acceleration is the acceleration this provider's VMs get, found once.
func (p *Provider) Acceleration(ctx context.Context) (Accel, error) {
	im, err := p.image()
	if err != nil {
		return Accel{}, err
	}
	agent, err := p.agent()
	if err != nil {
		return Accel{}, err
	}
	p.accelOnce.Do(func() { p.accel = p.chooseAccel(ctx, im, agent) })
	return p.accel, nil
}
