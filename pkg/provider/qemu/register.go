package qemu

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/provider/vmagent"
	"github.com/faasdev/faas/pkg/vmimage"
)

func init() {
	provider.Register(provider.Registration{
		Name:   Name,
		New:    func(ctx context.Context, home string) (provider.Provider, error) { return New(ctx, home) },
		Detect: detect,
		Rank:   5, // after Multipass
	})
}

// detect says whether QEMU, a built image and a static agent are here,
// and which acceleration VMs would get, for `faas doctor` and `--provider
// auto`. Without an image, auto passes QEMU over (a deploy with
// --provider qemu builds it).
func detect(ctx context.Context) provider.Availability {
	bin, _, err := find()
	if err != nil {
		return provider.Availability{Detail: "not installed (" + Binary + ", qemu-img): " + fault.HintOf(err)}
	}
	detail := "QEMU (" + bin + ")"
	home, err := faashome.Resolve()
	if err != nil {
		return provider.Availability{Detail: detail + ", " + err.Error()}
	}
	p, err := New(ctx, home)
	if err != nil {
		return provider.Availability{Detail: detail + ", " + err.Error()}
	}
	im, err := p.image()
	if err != nil {
		why := "no micro-VM image in " + p.ImageDir + " (faas image build"
		if m := vmimage.Tools(); len(m) > 0 {
			why += "; it needs " + strings.Join(m, ", ")
		}
		accel := "tcg: " + whyTCG()
		if hw, _ := hardwareVirt(); hw {
			accel = "kvm if a probe boot succeeds (vmx/svm)"
		}
		return provider.Availability{Detail: detail + ", but " + why + "); acceleration would be " + accel}
	}
	// Its version only once it may be used: every deploy with auto asks.
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(vctx, bin, "--version").Output(); err == nil {
		detail = "QEMU " + strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "QEMU emulator version ") + " (" + bin + ")"
	}
	detail += ", image " + im.Key + " (kernel " + im.KernelVersion + ")"
	agent, err := p.agent()
	if err != nil {
		return provider.Availability{Detail: detail + ", but no agent for its VMs: " + err.Error() + "; " + vmagent.Hint,
			Notice: "qemu is installed but faas has no static agent for its VMs (faas doctor says more)"}
	}
	a, err := p.Acceleration(ctx)
	if err != nil {
		return provider.Availability{Detail: detail + ", " + err.Error()}
	}
	return provider.Availability{Usable: true, Detail: detail + ", agent " + agent + ", acceleration " + a.Name + ": " + a.Why}
}

func whyTCG() string {
	_, why := hardwareVirt()
	return why
}
