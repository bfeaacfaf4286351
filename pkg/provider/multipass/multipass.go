package multipass

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
)

// Name is the provider's name as recorded on functions and instances.
const Name = "multipass"

// Where things live inside a VM.
const (
	agentPort   = 8377
	guestHome   = "/var/lib/faas"
	agentUnit   = "faas-agent"
	image       = "24.04"
	maxLaunches = 2 // multipassd falls over under many parallel launches (#3336)
)

// The optional capabilities the engine finds by type assertion.
var (
	_ provider.LogStreamer = (*Provider)(nil)
	_ provider.StatsReader = (*Provider)(nil)
	_ provider.Resizer     = (*Provider)(nil)
)

// Per-call timeouts, after the upstream test suite's.
var (
	launchTimeout = 10 * time.Minute
	startTimeout  = 3 * time.Minute
	execTimeout   = 90 * time.Second
	quickTimeout  = 30 * time.Second
)

// launches bounds parallel launches across this process.
var launches = make(chan struct{}, maxLaunches)

// Provider runs instances as Multipass VMs.
type Provider struct {
	R    *Runner
	Home string
	// AgentBinary is the faas binary copied into VMs: this one when it is a
	// Linux binary of the VM's architecture, else FAAS_AGENT_BINARY.
	AgentBinary string
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
// cannot be used.
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
	self := os.Getenv("FAAS_AGENT_BINARY")
	if self == "" {
		if runtime.GOOS != "linux" {
			return nil, fault.WithHint(fault.Platformf("this faas is a %s binary; VMs need a Linux one", runtime.GOOS), "build faas for linux and point FAAS_AGENT_BINARY at it")
		}
		if self, err = os.Executable(); err != nil {
			return nil, fault.Platformf("find the faas executable: %w", err)
		}
	}
	r := &Runner{Bin: bin}
	if os.Getenv("FAAS_DEBUG") != "" {
		r.Debug = os.Stderr
	}
	return &Provider{R: r, Home: home, AgentBinary: self}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// VMName is the Multipass instance of an instance id ("multipass-fn-1" →
// "faas-fn-1").
func VMName(id string) string { return "faas-" + strings.TrimPrefix(id, Name+"-") }

// Endpoint implements provider.Provider: a VM's address is known only once
// it runs, from `info`.
func (p *Provider) Endpoint(id string) string { return "" }

// cloudInit is the plain-YAML cloud-config of a VM: the runtime, the
// agent's token and its systemd unit.
func cloudInit(inst faastype.Instance, inv faastype.Invocation, token string) string {
	packages := []string{"python3"}
	if inv.Config.Runtime == function.Node {
		packages = append(packages, "nodejs")
	}
	return fmt.Sprintf(`#cloud-config
packages: [%s]
write_files:
  - path: /etc/faas/agent.env
    permissions: "0600"
    content: |
      FAAS_AGENT_TOKEN=%s
      FAAS_AGENT_ADDR=0.0.0.0:%d
  - path: /etc/systemd/system/%s.service
    permissions: "0644"
    content: |
      [Unit]
      Description=faas agent for %s
      After=network-online.target
      [Service]
      EnvironmentFile=/etc/faas/agent.env
      ExecStart=/usr/local/bin/faas agent --instance %s --function %s --home %s --addr ${FAAS_AGENT_ADDR} --pinned
      Restart=on-failure
      [Install]
      WantedBy=multi-user.target
`, strings.Join(packages, ", "), token, agentPort, agentUnit, inv.Function, inst.ID, inv.Function, guestHome)
}

// Launch creates the VM, copies the agent in, starts it and waits until it
// answers. A launch that timed out leaves a VM behind: it is purged and the
// launch tried once more.
func (p *Provider) Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	select {
	case launches <- struct{}{}:
		defer func() { <-launches }()
	case <-ctx.Done():
		return inst, ctx.Err()
	}
	vm := VMName(inst.ID)
	var tok [24]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	dir := faashome.MultipassDir(p.Home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return inst, fault.Platformf("launch %s: %w", vm, err)
	}
	ci := filepath.Join(dir, vm+".yaml")
	if err := os.WriteFile(ci, []byte(cloudInit(inst, inv, token)), 0o600); err != nil {
		return inst, fault.Platformf("launch %s: %w", vm, err)
	}
	defer os.Remove(ci)
	c := inv.Config
	memory := max(c.MemoryMB*int64(max(c.Concurrency, 1)), 512)
	args := []string{"launch", image, "--name", vm, "--cpus", strconv.Itoa(c.CPUs), "--memory", function.FormatSize(memory),
		"--disk", function.FormatSize(c.DiskMB), "--timeout", strconv.Itoa(int(launchTimeout.Seconds() / 2)), "--cloud-init", ci}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if _, err = p.R.Run(ctx, launchTimeout, args...); err == nil {
			break
		}
		if daemonDown(err) || !p.exists(ctx, vm) {
			return inst, platform(err)
		}
		// It timed out and left the VM: purge it before trying again.
		_ = p.purge(context.WithoutCancel(ctx), vm)
	}
	if err != nil {
		return inst, platform(err)
	}
	ip, err := p.ip(ctx, vm)
	if err == nil {
		err = p.installAgent(ctx, vm)
	}
	if err != nil {
		_ = p.purge(context.WithoutCancel(ctx), vm)
		return inst, err
	}
	inst.Endpoint = "http://" + ip + ":" + strconv.Itoa(agentPort)
	inst.Token = token
	inst.MemoryMB = memory
	if err := p.waitHealthy(ctx, inst); err != nil {
		_ = p.purge(context.WithoutCancel(ctx), vm)
		return inst, err
	}
	return inst, nil
}

func (p *Provider) installAgent(ctx context.Context, vm string) error {
	if _, err := p.R.Run(ctx, startTimeout, "transfer", p.AgentBinary, vm+":faas"); err != nil {
		return platform(err)
	}
	for _, cmd := range [][]string{
		{"sudo", "mkdir", "-p", guestHome + "/code"},
		{"sudo", "install", "-m", "0755", "faas", "/usr/local/bin/faas"},
		{"sudo", "systemctl", "daemon-reload"},
		{"sudo", "systemctl", "enable", "--now", agentUnit},
	} {
		if _, err := p.R.Run(ctx, execTimeout, append([]string{"exec", vm, "--"}, cmd...)...); err != nil {
			return platform(err)
		}
	}
	return nil
}

func (p *Provider) waitHealthy(ctx context.Context, inst faastype.Instance) error {
	c := client.New(inst.Endpoint, inst.Token)
	defer c.Close()
	deadline := time.Now().Add(time.Minute)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.Health(hctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fault.Platformf("the agent in %s did not answer within a minute: %v", VMName(inst.ID), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// Info is the part of `multipass info --format json` faas reads.
type Info struct {
	State    string    `json:"state"`
	IPv4     []string  `json:"ipv4"`
	CPUCount string    `json:"cpu_count"`
	Load     []float64 `json:"load"`
	Memory   struct {
		Used  int64 `json:"used"`
		Total int64 `json:"total"`
	} `json:"memory"`
	Disks map[string]struct {
		Used  string `json:"used"`
		Total string `json:"total"`
	} `json:"disks"`
}

// info asks about one VM by name: never all at once, since one bad VM
// fails a whole `list` or `info`.
func (p *Provider) info(ctx context.Context, vm string) (Info, error) {
	out, err := p.R.Run(ctx, quickTimeout, "info", vm, "--format", "json")
	if err != nil {
		return Info{}, err
	}
	var doc struct {
		Info map[string]Info `json:"info"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return Info{}, fault.Platformf("multipass info %s: %w", vm, err)
	}
	in, ok := doc.Info[vm]
	if !ok {
		return Info{}, fault.Platformf("multipass info %s: no such instance in the answer", vm)
	}
	return in, nil
}

func (p *Provider) exists(ctx context.Context, vm string) bool {
	_, err := p.info(ctx, vm)
	return err == nil
}

func (p *Provider) ip(ctx context.Context, vm string) (string, error) {
	in, err := p.info(ctx, vm)
	if err != nil {
		return "", platform(err)
	}
	for _, ip := range in.IPv4 {
		if ip != "" && ip != "N/A" {
			return ip, nil
		}
	}
	return "", fault.Platformf("%s has no IPv4 address (state %s)", vm, in.State)
}

func (p *Provider) purge(ctx context.Context, vm string) error {
	_, err := p.R.Run(ctx, quickTimeout*3, "delete", "--purge", vm)
	return err
}

// Invoke sends inv to the VM's agent, copying the version's code in first
// when the agent lacks it. A VM in Unknown state is recovered (stop
// --force, start) once; a VM that is gone is ErrGone.
func (p *Provider) Invoke(ctx context.Context, inst faastype.Instance, inv faastype.Invocation, starting bool) (faastype.Outcome, error) {
	if inst.Endpoint == "" {
		ip, err := p.ip(ctx, VMName(inst.ID))
		if err != nil {
			return faastype.Outcome{}, fmt.Errorf("%w: %v", faastype.ErrGone, err)
		}
		inst.Endpoint = "http://" + ip + ":" + strconv.Itoa(agentPort)
	}
	c := p.clients.Get(inst.Endpoint, inst.Token)
	req := api.NewInvokeRequest(inv)
	for attempt := 0; ; attempt++ {
		resp, err := c.Invoke(ctx, req)
		switch {
		case err == nil:
			return resp.Outcome(), nil
		case attempt >= 2 || ctx.Err() != nil:
			return faastype.Outcome{}, err
		case errors.Is(err, api.ErrCodeMissing):
			if err := p.sendCode(ctx, inst, inv); err != nil {
				return faastype.Outcome{}, err
			}
		case errors.Is(err, faastype.ErrGone):
			in, ierr := p.info(ctx, VMName(inst.ID))
			switch {
			case ierr != nil || in.State == "Deleted":
				return faastype.Outcome{}, fmt.Errorf("%w: %s is gone", faastype.ErrGone, VMName(inst.ID))
			case in.State == "Unknown" || in.State == "Stopped" || in.State == "Suspended":
				if err := p.recover(ctx, inst); err != nil {
					return faastype.Outcome{}, fmt.Errorf("%w: %v", faastype.ErrGone, err)
				}
			case starting:
				if err := p.waitHealthy(ctx, inst); err != nil {
					return faastype.Outcome{}, err
				}
			default:
				return faastype.Outcome{}, fmt.Errorf("%w: the agent in %s does not answer", faastype.ErrGone, VMName(inst.ID))
			}
		default:
			return faastype.Outcome{}, err
		}
	}
}

// recover restarts a VM stuck in Unknown (or stopped behind our back).
func (p *Provider) recover(ctx context.Context, inst faastype.Instance) error {
	vm := VMName(inst.ID)
	_, _ = p.R.Run(ctx, startTimeout, "stop", "--force", vm)
	if _, err := p.R.Run(ctx, startTimeout, "start", vm); err != nil {
		return platform(err)
	}
	if _, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "sudo", "systemctl", "start", agentUnit); err != nil {
		return platform(err)
	}
	return p.waitHealthy(ctx, inst)
}

// sendCode copies a version's code into the VM, where the agent finds it.
func (p *Provider) sendCode(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) error {
	local, err := codestore.Write(p.Home, inv)
	if err != nil {
		return err
	}
	vm, name := VMName(inst.ID), codestore.Name(inv)
	if _, err := p.R.Run(ctx, startTimeout, "transfer", local, vm+":"+name); err != nil {
		return platform(err)
	}
	if _, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "sudo", "install", "-m", "0644", name, guestHome+"/code/"+name); err != nil {
		return platform(err)
	}
	return nil
}

// Stop deletes and purges the VM.
func (p *Provider) Stop(ctx context.Context, inst faastype.Instance) error {
	if err := p.purge(ctx, VMName(inst.ID)); err != nil {
		var ce *CmdError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "does not exist") {
			return nil
		}
		return platform(err)
	}
	return nil
}

// Alive asks Multipass whether the VM runs.
func (p *Provider) Alive(inst faastype.Instance) bool {
	in, err := p.info(context.Background(), VMName(inst.ID))
	return err == nil && in.State == "Running"
}

// Stats reads the VM's memory, disk and load from `info`, and the agent's
// counters from /stats.
func (p *Provider) Stats(ctx context.Context, inst faastype.Instance) (faastype.InstanceStats, error) {
	in, err := p.info(ctx, VMName(inst.ID))
	if err != nil {
		return faastype.InstanceStats{}, platform(err)
	}
	st := faastype.InstanceStats{RSSBytes: in.Memory.Used, MemoryTotal: in.Memory.Total}
	for _, d := range in.Disks {
		n, _ := strconv.ParseInt(d.Used, 10, 64)
		t, _ := strconv.ParseInt(d.Total, 10, 64)
		st.DiskUsed += n
		st.DiskTotal += t
	}
	if inst.Endpoint != "" {
		c := client.New(inst.Endpoint, inst.Token)
		defer c.Close()
		if s, err := c.Stats(ctx); err == nil {
			st.CPUSeconds, st.UptimeS, st.IdleS, st.InFlight, st.Workers, st.Invoked = s.CPUSeconds, s.UptimeS, s.IdleS, s.InFlight, s.Workers, s.Invoked
		}
	}
	return st, nil
}

// Resize drains nothing itself (the caller stops placing jobs first), then
// stops the VM, sets its CPUs, memory and disk (disk only grows), and
// starts it and its agent again.
func (p *Provider) Resize(ctx context.Context, inst faastype.Instance, cpus int, memoryMB, diskMB int64) error {
	vm := VMName(inst.ID)
	if _, err := p.R.Run(ctx, startTimeout, "stop", vm); err != nil {
		return platform(err)
	}
	sets := []string{"local." + vm + ".cpus=" + strconv.Itoa(cpus), "local." + vm + ".memory=" + function.FormatSize(memoryMB)}
	if diskMB > 0 {
		sets = append(sets, "local."+vm+".disk="+function.FormatSize(diskMB))
	}
	for _, s := range sets {
		if _, err := p.R.Run(ctx, quickTimeout, "set", s); err != nil {
			return platform(err)
		}
	}
	if _, err := p.R.Run(ctx, startTimeout, "start", vm); err != nil {
		return platform(err)
	}
	if _, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "sudo", "systemctl", "start", agentUnit); err != nil {
		return platform(err)
	}
	return p.waitHealthy(ctx, inst)
}

// FollowLogs streams the agent's job output.
func (p *Provider) FollowLogs(ctx context.Context, inst faastype.Instance, since time.Time, fn func(faastype.LogLine)) error {
	if inst.Endpoint == "" {
		return fmt.Errorf("%w: %s has no address yet", faastype.ErrGone, VMName(inst.ID))
	}
	c := client.New(inst.Endpoint, inst.Token)
	defer c.Close()
	return c.Logs(ctx, since, fn)
}
