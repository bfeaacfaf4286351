package multipass

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// vmName is Multipass' instance-name rule.
var vmName = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$`)

func (p *Provider) launchWait() time.Duration {
	if p.LaunchWait > 0 {
		return p.LaunchWait
	}
	return defaultLaunchWait
}

// Launch creates the VM, checks its runtime, copies the agent in, starts
// it and waits until it answers. Whatever fails after the VM exists purges
// it: no VM is left behind.
func (p *Provider) Launch(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) (faastype.Instance, error) {
	vm := VMName(inst.ID)
	if !vmName.MatchString(vm) {
		return inst, fault.Usagef("%q is not a valid Multipass instance name", vm)
	}
	agent, err := p.agent()
	if err != nil {
		return inst, err
	}
	select {
	case launches <- struct{}{}:
		defer func() { <-launches }()
	case <-ctx.Done():
		return inst, ctx.Err()
	}
	var tok [24]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	c := inv.Config
	memory := max(c.MemoryMB*int64(max(c.Concurrency, 1)), 512)
	args := []string{"launch", p.Image, "--name", vm, "--cpus", strconv.Itoa(c.CPUs), "--memory", function.FormatSize(memory),
		"--disk", function.FormatSize(c.DiskMB), "--timeout", strconv.Itoa(int(p.launchWait() / time.Second)), "--cloud-init", "-"}
	if err := p.create(ctx, vm, c.CPUs, args, cloudInit(inst, inv, token)); err != nil {
		return inst, err
	}
	err = func() error {
		ip, err := p.ip(ctx, vm)
		if err != nil {
			return err
		}
		if err := p.checkRuntime(ctx, vm, c.Runtime); err != nil {
			return err
		}
		if err := p.installAgent(ctx, vm, agent); err != nil {
			return err
		}
		inst.Endpoint = "http://" + ip + ":" + strconv.Itoa(agentPort)
		inst.Token = token
		inst.MemoryMB = memory
		return p.waitHealthy(ctx, inst)
	}()
	if err != nil {
		_ = p.purge(context.WithoutCancel(ctx), vm)
		return inst, err
	}
	return inst, nil
}

// create runs `launch` (the cloud-config on stdin), once more when the
// first attempt left a broken VM. A launch leaves a VM behind when it
// times out: after the daemon's own waits (exit 2) the VM stays, Unknown,
// and is purged; after the client's timer (exit 5, or no answer) the
// daemon goes on and the VM appears later: it is settled.
func (p *Provider) create(ctx context.Context, vm string, cpus int, args []string, ci string) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if _, err = p.R.RunInput(ctx, p.launchWait()+time.Minute, strings.NewReader(ci), args...); err == nil {
			return nil
		}
		var ce *CmdError
		isCmd := errors.As(err, &ce)
		switch {
		case daemonDown(err) || ctx.Err() != nil:
			return platform(err)
		case isCmd && strings.Contains(ce.Stderr, "below minimum for this image"):
			return fault.WithHint(platform(err), "deploy the function again with a larger --disk")
		case isCmd && ce.Code == 5 || errors.Is(err, errNoAnswer):
			switch got, serr := p.settle(ctx, vm, cpus); got {
			case settledUp:
				return nil
			case settledPurged:
				err = serr // came up broken: try once more
			default:
				return serr
			}
		case isCmd && strings.Contains(ce.Stderr, "is being prepared"):
			// A launch of ours that timed out earlier, still under way: it
			// is not this one (another token), so it goes when it appears.
			if got, _ := p.settle(ctx, vm, cpus); got == settledUp {
				_ = p.purge(context.WithoutCancel(ctx), vm)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		case p.exists(ctx, vm):
			// Timed out and left the VM: purge it before trying again.
			_ = p.purge(context.WithoutCancel(ctx), vm)
		default:
			return platform(err)
		}
	}
	return platform(err)
}

// What settle found.
type settled int

const (
	settledNone   settled = iota // no VM (the daemon gave up, or still creating it at the deadline)
	settledUp                    // the VM runs and cloud-init has finished
	settledPurged                // the VM came up unusable and was purged
)

// settle waits for a VM whose launch the client gave up on: multipassd
// goes on creating it, unlisted until its image is ready, then Starting,
// then Running once SSH answers (before cloud-init is done). It is usable
// when it runs and cloud-init has finished; a VM that came up otherwise is
// purged. The wait is bounded by the daemon's own (the SSH and cloud-init
// waits) and a margin.
func (p *Provider) settle(ctx context.Context, vm string, cpus int) (settled, error) {
	deadline := time.Now().Add(2*p.launchWait() + 10*time.Second)
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		in, err := p.info(ctx, vm)
		switch {
		case err == nil && in.State == "Running":
			_, err := p.R.Run(ctx, p.launchWait()+time.Minute, "exec", vm, "--", "cloud-init", "status", "--wait")
			var ce *CmdError
			if err != nil && !(errors.As(err, &ce) && (ce.Code == 1 || ce.Code == 2)) {
				// 1 and 2 are cloud-init's errors: it finished, and the
				// runtime check says whether what matters is there.
				_ = p.purge(context.WithoutCancel(ctx), vm)
				return settledPurged, platform(err)
			}
			return settledUp, nil
		case err == nil && (in.State == "Starting" || in.State == "Restarting"):
		case err == nil:
			_ = p.purge(context.WithoutCancel(ctx), vm)
			return settledPurged, fault.Platformf("%s came up %s after its launch timed out; it was purged", vm, in.State)
		case daemonDown(err):
			return settledNone, platform(err)
		default:
			preparing, exists, perr := p.preparing(ctx, vm, cpus)
			if perr != nil {
				return settledNone, platform(perr)
			}
			if !preparing && !exists {
				return settledNone, fault.WithHint(fault.Platformf("multipassd did not create %s after launch gave up waiting (--timeout %s)", vm, p.launchWait()),
					"raise FAAS_MULTIPASS_LAUNCH_TIMEOUT (a first launch downloads the image)")
			}
			// Being prepared, or listed meanwhile: look again.
		}
		if time.Now().After(deadline) {
			return settledNone, fault.WithHint(fault.Platformf("%s was still being created %s after its launch timed out", vm, 2*p.launchWait()),
				"purge it once it is listed: multipass delete --purge "+vm)
		}
		select {
		case <-ctx.Done():
			return settledNone, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// preparing tells a launch still under way (unlisted) from no instance at
// all, which `info` and `get` do not: `set` refuses an instance being
// prepared before anything else. The value is the launch's own, so the
// call changes nothing where the instance exists.
func (p *Provider) preparing(ctx context.Context, vm string, cpus int) (preparing, exists bool, err error) {
	_, err = p.R.Run(ctx, quickTimeout, "set", "local."+vm+".cpus="+strconv.Itoa(max(cpus, 1)))
	var ce *CmdError
	switch {
	case err == nil:
		return false, true, nil
	case !errors.As(err, &ce):
		return false, false, err
	case strings.Contains(ce.Stderr, "instance is being prepared"):
		return true, false, nil
	case strings.Contains(ce.Stderr, "No such instance"):
		return false, false, nil
	case strings.Contains(ce.Stderr, "must be stopped") || strings.Contains(ce.Stderr, "is deleted"):
		return false, true, nil
	}
	return false, false, err
}

// checkRuntime runs the runtime's program in the VM: a Node function's
// nodejs comes from apt at first boot, and a launch without network still
// succeeds (multipass waits only for cloud-init's boot-finished).
func (p *Provider) checkRuntime(ctx context.Context, vm string, rt function.Runtime) error {
	prog, pkg := runtimeProgram(rt)
	if prog == "" {
		return nil
	}
	_, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", prog, "--version")
	var ce *CmdError
	if err == nil || !errors.As(err, &ce) || ce.Code != 127 {
		return platform(err)
	}
	why := "the image does not have it"
	if pkg != "" {
		why = "cloud-init could not install " + pkg + " (apt needs network at first boot)"
		if log, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "cat", "/var/log/cloud-init-output.log"); err == nil {
			if line := lastAptError(string(log)); line != "" {
				why += ": " + line
			}
		}
	}
	return fault.WithHint(fault.Platformf("%s has no %s for %s functions: %s", vm, prog, rt, why),
		"give the host network, or launch from an image that has it: FAAS_MULTIPASS_IMAGE=file:///… (docs/multipass.md, offline use)")
}

func lastAptError(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "E: ") {
			return l
		}
	}
	return ""
}

// installAgent streams the static agent in (`transfer -`: the snap cannot
// read the file itself), installs it and starts its unit.
func (p *Provider) installAgent(ctx context.Context, vm, agent string) error {
	f, err := os.Open(agent)
	if err != nil {
		return fault.Platformf("the agent binary: %w", err)
	}
	defer f.Close()
	if _, err := p.R.RunInput(ctx, startTimeout, f, "transfer", "-", vm+":faas"); err != nil {
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

// errNoAnswer is a multipass call that outlived its timeout (and was
// killed: for launch, the daemon goes on).
var errNoAnswer = errors.New("no answer")
