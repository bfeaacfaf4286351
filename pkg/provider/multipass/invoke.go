package multipass

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

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
	_, _ = p.R.Run(ctx, startTimeout, "stop", "--force", VMName(inst.ID))
	return p.boot(ctx, inst)
}

// boot starts a stopped VM and its agent, and waits until it answers.
func (p *Provider) boot(ctx context.Context, inst faastype.Instance) error {
	vm := VMName(inst.ID)
	if _, err := p.R.Run(ctx, startTimeout, "start", vm); err != nil {
		return platform(err)
	}
	if _, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "sudo", "systemctl", "start", agentUnit); err != nil {
		return platform(err)
	}
	return p.waitHealthy(ctx, inst)
}

// codeName is what a version's code file may be called in the guest: a
// plain file name (it becomes an argv element and a guest path).
var codeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// sendCode streams a version's code into the VM (`transfer -`: the snap
// cannot read FAAS_HOME), where the agent finds it.
func (p *Provider) sendCode(ctx context.Context, inst faastype.Instance, inv faastype.Invocation) error {
	vm, name := VMName(inst.ID), codestore.Name(inv)
	if !codeName.MatchString(name) {
		return fault.Platformf("the code of %s v%d has an unsafe name %q", inv.Function, inv.Version, name)
	}
	local, err := codestore.Write(p.Home, inv)
	if err != nil {
		return err
	}
	f, err := os.Open(local)
	if err != nil {
		return fault.Platformf("the code of %s v%d: %w", inv.Function, inv.Version, err)
	}
	defer f.Close()
	if _, err := p.R.RunInput(ctx, startTimeout, f, "transfer", "-", vm+":"+name); err != nil {
		return platform(err)
	}
	if _, err := p.R.Run(ctx, execTimeout, "exec", vm, "--", "sudo", "install", "-m", "0644", name, guestHome+"/code/"+name); err != nil {
		return platform(err)
	}
	return nil
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
