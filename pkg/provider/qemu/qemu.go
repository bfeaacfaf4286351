// Package qemu runs instances as QEMU micro-VMs: each is a
// `qemu-system-x86_64 -M microvm` process with the function's CPUs and
// memory, booting a Debian kernel directly (PVH vmlinux) with the static
// agent as the initramfs' /init, on a copy-on-write layer over the shared,
// read-only image (pkg/vmimage), its own versions' code and dependencies
// shared read-only over 9p, and the agent reached through a loopback port
// forward with a token of the instance's own. Instances start by restoring
// a snapshot of their runtime and size when they can (snapshot.go), by
// booting otherwise. KVM where the CPU has vmx/svm and a probe boot
// succeeds, TCG otherwise. Nothing runs through a shell.
package qemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/provider/vmagent"
	"github.com/faasdev/faas/pkg/vmimage"
)

// Name is the provider's name as recorded on functions and instances.
const Name = "qemu"

// Binary is the QEMU system emulator it runs.
const Binary = "qemu-system-x86_64"

// The optional capabilities the engine finds by type assertion.
var (
	_ provider.LogStreamer    = (*Provider)(nil)
	_ provider.StatsReader    = (*Provider)(nil)
	_ provider.Resizer        = (*Provider)(nil)
	_ provider.ConfigChecker  = (*Provider)(nil)
	_ provider.InstanceLogger = (*Provider)(nil)
)

// BootTimeoutEnv bounds a boot, from QEMU's start to the agent's answer.
const BootTimeoutEnv = "FAAS_QEMU_BOOT_TIMEOUT"

// AccelEnv forces an acceleration (kvm or tcg) instead of detecting one.
const AccelEnv = "FAAS_QEMU_ACCEL"

// defaultBootTimeout: about 3 s under TCG on an idle 2-core host; a
// loaded one (CI) takes several times that.
const defaultBootTimeout = 90 * time.Second

// Provider runs instances as QEMU micro-VMs.
type Provider struct {
	Home     string
	Bin      string
	QemuImg  string
	ImageDir string
	// AgentBinary, when set, is the static agent the guests run; else
	// vmagent.Find finds it.
	AgentBinary string
	BootTimeout time.Duration
	// Idle is how long a guest's agent waits without invocations before
	// it exits, and its VM with it (0: the agent's default).
	Idle time.Duration

	agentOnce sync.Once
	agentErr  error
	accelOnce sync.Once
	accel     Accel
	clients   client.Clients
	// lastStats is each VM's last /stats answer (by id and QEMU pid).
	lastStats sync.Map
}

// find locates QEMU and qemu-img.
func find() (bin, img string, err error) {
	if bin, err = exec.LookPath(Binary); err != nil {
		return "", "", fault.WithHint(fault.Platformf("QEMU is not installed (%s)", Binary),
			"install it (apt-get install qemu-system-x86 qemu-utils) or use --provider local")
	}
	if img, err = exec.LookPath("qemu-img"); err != nil {
		return "", "", fault.WithHint(fault.Platformf("qemu-img is not installed"), "install it (apt-get install qemu-utils)")
	}
	return bin, img, nil
}

// New returns the provider, or a platform error saying why QEMU cannot be
// used. A missing image is not one (rm must still stop VMs): a deploy
// builds it.
func New(ctx context.Context, home string) (*Provider, error) {
	bin, img, err := find()
	if err != nil {
		return nil, err
	}
	boot := defaultBootTimeout
	if v := strings.TrimSpace(os.Getenv(BootTimeoutEnv)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return nil, fault.Usagef("%s %q: use a duration, e.g. 60s", BootTimeoutEnv, v)
		}
		boot = d
	}
	if a := os.Getenv(AccelEnv); a != "" && a != "kvm" && a != "tcg" {
		return nil, fault.Usagef("%s %q: use kvm or tcg", AccelEnv, a)
	}
	return &Provider{Home: home, Bin: bin, QemuImg: img, ImageDir: vmimage.Dir(home), BootTimeout: boot}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// agent is the static agent binary, found once.
func (p *Provider) agent() (string, error) {
	p.agentOnce.Do(func() {
		if p.AgentBinary != "" {
			p.agentErr = vmagent.Check(p.AgentBinary)
			return
		}
		p.AgentBinary, p.agentErr = vmagent.Find()
	})
	return p.AgentBinary, p.agentErr
}

// instanceID is what an instance id may be: it names a directory.
var instanceID = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

// dir is an instance's directory: its state, initrd and disk layer.
func (p *Provider) dir(id string) string {
	return filepath.Join(p.Home, "run", "qemu", filepath.Base(id))
}

// Endpoint implements provider.Provider: the forwarded port, once the VM
// runs.
func (p *Provider) Endpoint(id string) string {
	st, err := p.readState(id)
	if err != nil || st.Port == 0 {
		return ""
	}
	return st.endpoint()
}

// image is the built image, or an error saying how to build it.
func (p *Provider) image() (vmimage.Image, error) {
	im, err := vmimage.Current(p.ImageDir)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return im, fault.WithHint(fault.Platformf("no micro-VM image in %s", p.ImageDir), "build it: faas image build (or deploy with --provider qemu, which builds it)")
		}
		return im, err
	}
	return im, nil
}

// ensureImage builds the image when it is missing, saying so on stderr.
func (p *Provider) ensureImage(ctx context.Context) (vmimage.Image, error) {
	if im, err := p.image(); err == nil {
		return im, nil
	}
	os.Stderr.WriteString("building the micro-VM image in " + p.ImageDir + " (first use of --provider qemu, about a minute)…\n")
	im, _, err := vmimage.Build(ctx, p.ImageDir, vmimage.DefaultRecipe(), nil)
	if err != nil {
		return im, err
	}
	os.Stderr.WriteString("✓ image " + im.Key + " built\n")
	return im, nil
}

var errExited = errors.New("qemu exited")
