package multipass

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/provider/vmagent"
)

// Name is the provider's name as recorded on functions and instances.
const Name = "multipass"

// Where things live inside a VM.
const (
	agentPort   = 8377
	guestHome   = "/var/lib/faas"
	agentUnit   = "faas-agent"
	maxLaunches = 2 // multipassd falls over under many parallel launches (#3336)
)

// The optional capabilities the engine finds by type assertion.
var (
	_ provider.LogStreamer   = (*Provider)(nil)
	_ provider.StatsReader   = (*Provider)(nil)
	_ provider.Resizer       = (*Provider)(nil)
	_ provider.ConfigChecker = (*Provider)(nil)
)

// Per-call timeouts, after the upstream test suite's.
var (
	startTimeout = 3 * time.Minute
	execTimeout  = 90 * time.Second
	quickTimeout = 30 * time.Second
)

// defaultLaunchWait is launch's --timeout: multipassd applies it to the
// SSH wait and to the cloud-init wait, and the client's timer to the whole
// launch, image download included (exit 5 when it fires).
const defaultLaunchWait = 5 * time.Minute

// launches bounds parallel launches across this process.
var launches = make(chan struct{}, maxLaunches)

// Provider runs instances as Multipass VMs.
type Provider struct {
	R    *Runner
	Home string
	// Image is what VMs are launched from: FAAS_MULTIPASS_IMAGE, else
	// 24.04.
	Image string
	// LaunchWait is launch's --timeout (FAAS_MULTIPASS_LAUNCH_TIMEOUT).
	LaunchWait time.Duration
	// AgentBinary, when set, is the static agent copied into VMs; else
	// FindAgent finds it at the first launch.
	AgentBinary string
	agentOnce   sync.Once
	agentErr    error
	clients     client.Clients
}

// Version is what `multipass version --format json` says.
type Version struct {
	Client string `json:"multipass"`
	Daemon string `json:"multipassd"`
}

// Detect finds the multipass client and asks it for versions; an empty
// Daemon means the daemon does not answer.
func Detect(ctx context.Context) (string, Version, error) {
	bin, err := exec.LookPath("multipass")
	if err != nil {
		return "", Version{}, err
	}
	r := &Runner{Bin: bin}
	out, err := r.Run(ctx, quickTimeout, "version", "--format", "json")
	if err != nil {
		return bin, Version{}, err
	}
	var v Version
	if err := json.Unmarshal(out, &v); err != nil {
		return bin, Version{}, fault.Platformf("multipass version: %w", err)
	}
	return bin, v, nil
}

// New returns the provider, or a platform error saying why Multipass
// cannot be used. A missing static agent is not one of those (rm must
// still purge VMs): launches and deploys say it.
func New(ctx context.Context, home string) (*Provider, error) {
	bin, v, err := Detect(ctx)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fault.WithHint(fault.Platformf("multipass is not installed"), "install it (sudo snap install multipass) or use --provider local")
		}
		return nil, platform(err)
	}
	if v.Daemon == "" {
		return nil, fault.WithHint(fault.Platformf("the Multipass daemon does not answer"), "start it (sudo snap start multipass) or use --provider local")
	}
	image, err := imageFromEnv()
	if err != nil {
		return nil, err
	}
	wait, err := launchWaitFromEnv()
	if err != nil {
		return nil, err
	}
	r := &Runner{Bin: bin}
	if os.Getenv("FAAS_DEBUG") != "" {
		r.Debug = os.Stderr
	}
	return &Provider{R: r, Home: home, Image: image, LaunchWait: wait}, nil
}

// launchWaitFromEnv reads FAAS_MULTIPASS_LAUNCH_TIMEOUT (a duration, whole
// seconds: launch takes seconds).
func launchWaitFromEnv() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv("FAAS_MULTIPASS_LAUNCH_TIMEOUT"))
	if v == "" {
		return defaultLaunchWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d%time.Second != 0 {
		return 0, fault.Usagef("FAAS_MULTIPASS_LAUNCH_TIMEOUT %q: use whole seconds, e.g. 600s or 10m", v)
	}
	return d, nil
}

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

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// VMName is the Multipass instance of an instance id ("multipass-fn-1" →
// "faas-fn-1").
func VMName(id string) string { return "faas-" + strings.TrimPrefix(id, Name+"-") }

// Endpoint implements provider.Provider: a VM's address is known only once
// it runs, from `info`.
func (p *Provider) Endpoint(id string) string { return "" }
