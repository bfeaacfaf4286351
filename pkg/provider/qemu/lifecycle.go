package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
)

// Invoke sends inv to the VM's agent. The agent reads code and
// dependencies from the instance's own shares (share.go), read-only: a
// version new to the VM (a redeploy rolls one onto it) is placed there
// first. A VM whose QEMU has gone is ErrGone: the engine launches another.
func (p *Provider) Invoke(ctx context.Context, inst faastype.Instance, inv faastype.Invocation, starting bool) (faastype.Outcome, error) {
	if inst.Endpoint == "" {
		inst.Endpoint = p.Endpoint(inst.ID)
		if inst.Endpoint == "" {
			return faastype.Outcome{}, fmt.Errorf("%w: %s has no VM", faastype.ErrGone, inst.ID)
		}
	}
	if err := p.place(inst.ID, inv); err != nil {
		return faastype.Outcome{}, err
	}
	c := p.clients.Get(inst.Endpoint, inst.Token)
	req := api.NewInvokeRequest(inv)
	asked := false
	for {
		resp, err := c.Invoke(ctx, req)
		switch {
		case err == nil:
			return resp.Outcome(), nil
		case ctx.Err() != nil:
			return faastype.Outcome{}, err
		case errors.Is(err, api.ErrCodeMissing) && !asked:
			// Placed just now: a guest that looked for it before sees it
			// when it looks again.
			asked = true
		case transportErr(err) && p.dies(inst):
			// Cut off by a QEMU that was dying (killed, crashed): slirp
			// accepts while the process lives.
			return faastype.Outcome{}, fmt.Errorf("%w: the VM of %s is gone: %v", faastype.ErrGone, inst.ID, err)
		case errors.Is(err, faastype.ErrGone) && !p.Alive(inst):
			return faastype.Outcome{}, fmt.Errorf("%w: the VM of %s is gone", faastype.ErrGone, inst.ID)
		case errors.Is(err, faastype.ErrGone) && starting:
			st, serr := p.readState(inst.ID)
			if serr != nil {
				return faastype.Outcome{}, fmt.Errorf("%w: %v", faastype.ErrGone, serr)
			}
			if err := p.waitReady(ctx, st, nil, faashome.Log(p.Home, inst.ID)); err != nil {
				return faastype.Outcome{}, err
			}
			starting = false
		case errors.Is(err, faastype.ErrGone):
			// Running but not answering (an agent exiting when idle powers
			// its VM off): the engine forgets the instance, so it goes.
			_ = p.Stop(context.WithoutCancel(ctx), inst)
			return faastype.Outcome{}, err
		default:
			return faastype.Outcome{}, err
		}
	}
}

// Stop kills the VM and removes its directory (its layer), and those of
// the function's VMs that have gone by themselves.
func (p *Provider) Stop(ctx context.Context, inst faastype.Instance) error {
	st, err := p.readState(inst.ID)
	if err != nil {
		st = state{ID: inst.ID, PID: inst.PID, PIDStart: inst.PIDStart}
	}
	p.kill(st)
	if err := bundle.RemoveTree(p.dir(inst.ID)); err != nil {
		return fault.Platformf("stop %s: %w", inst.ID, err)
	}
	p.sweep()
	return nil
}

// Alive says whether the instance's QEMU runs (its pid from the
// instance's directory: a resize boots a new one).
func (p *Provider) Alive(inst faastype.Instance) bool {
	st, err := p.readState(inst.ID)
	if err != nil {
		return inst.PID > 0 && proc.Alive(inst.PID, inst.PIDStart) && !zombie(inst.PID)
	}
	return running(st)
}

// Stats reads the VM's CPU time as the host counts it for its QEMU
// process (always there, one source across samples: the vCPUs' time, and
// under TCG the translation's), the memory the agent in the guest counts
// for itself and its workers (QEMU's own RSS holds the guest's page cache
// and TCG's buffers), and the agent's counters. A starved guest may not
// answer within the sampler's second: its last answer stands in.
func (p *Provider) Stats(ctx context.Context, inst faastype.Instance) (faastype.InstanceStats, error) {
	st, err := p.readState(inst.ID)
	if err != nil || !running(st) {
		return faastype.InstanceStats{}, fmt.Errorf("%w: the VM of %s is gone", faastype.ErrGone, inst.ID)
	}
	_, cpu := proc.Usage(st.PID)
	out := faastype.InstanceStats{CPUSeconds: cpu, MemoryTotal: st.MemoryMB << 20}
	if fi, err := os.Stat(filepath.Join(p.dir(inst.ID), layerFile)); err == nil {
		out.DiskUsed = allocated(fi)
	}
	out.DiskTotal = max(st.DiskMB, 2048) << 20
	c := client.New(st.endpoint(), st.Token)
	defer c.Close()
	key := inst.ID + " " + strconv.Itoa(st.PID)
	if s, err := c.Stats(ctx); err == nil {
		p.lastStats.Store(key, s)
	}
	if v, ok := p.lastStats.Load(key); ok {
		s := v.(api.Stats)
		out.RSSBytes, out.UptimeS, out.IdleS, out.InFlight, out.Workers, out.Invoked = s.RSSBytes, s.UptimeS, s.IdleS, s.InFlight, s.Workers, s.Invoked
	}
	return out, nil
}

// Resize boots the VM again with the new size (the caller has drained
// it): QEMU cannot change a running microvm's CPUs or memory. The disk
// layer and its contents are kept (it only grows); the port and token
// stay, so the instance's endpoint does not change.
func (p *Provider) Resize(ctx context.Context, inst faastype.Instance, cpus int, memoryMB, diskMB int64) error {
	st, err := p.readState(inst.ID)
	if err != nil {
		return fault.Platformf("resize %s: %w", inst.ID, err)
	}
	ctx = context.WithoutCancel(ctx)
	p.kill(st)
	old := st
	st.CPUs, st.MemoryMB = max(cpus, 1), vmMemory(memoryMB, 1)
	if diskMB > st.DiskMB && diskMB > 2048 {
		st.DiskMB = diskMB
		out, err := execOut(ctx, p.QemuImg, "resize", "-q", filepath.Join(p.dir(inst.ID), layerFile), strconv.FormatInt(diskMB, 10)+"M")
		if err != nil {
			return fault.Platformf("resize %s: qemu-img resize: %v: %s", inst.ID, err, out)
		}
	}
	if err := p.boot(ctx, &st); err != nil {
		// Back at the old size, so the instance the engine keeps runs.
		if berr := p.boot(ctx, &old); berr != nil {
			return fault.Platformf("resize %s: %v; booting it again at its old size failed too: %w", inst.ID, err, berr)
		}
		return fault.Platformf("resize %s: %w; it runs again at its old size", inst.ID, err)
	}
	return nil
}

// FollowLogs streams the agent's job output.
func (p *Provider) FollowLogs(ctx context.Context, inst faastype.Instance, since time.Time, fn func(faastype.LogLine)) error {
	if inst.Endpoint == "" {
		return fmt.Errorf("%w: %s has no address yet", faastype.ErrGone, inst.ID)
	}
	c := client.New(inst.Endpoint, inst.Token)
	defer c.Close()
	return c.Logs(ctx, since, fn)
}

// InstanceLogs lists the consoles of a function's VMs (the kernel's and
// the agent's lines, and QEMU's errors).
func (p *Provider) InstanceLogs(fn string) (map[string]string, error) {
	paths, err := filepath.Glob(faashome.Log(p.Home, Name+"-"+fn+"-*"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, path := range paths {
		id := strings.TrimSuffix(filepath.Base(path), ".log")
		if rest := strings.TrimPrefix(id, Name+"-"+fn+"-"); rest != "" && strings.Trim(rest, "0123456789") == "" {
			out[id] = path
		}
	}
	return out, nil
}

// CheckConfig implements provider.ConfigChecker: at deploy, the static
// agent and the image are there (the image is built when missing).
func (p *Provider) CheckConfig(cfg function.Config) error {
	if _, err := p.agent(); err != nil {
		return err
	}
	_, err := p.ensureImage(context.Background())
	return err
}

// transportErr says the request got no HTTP answer at all.
func transportErr(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// dies says whether the instance's QEMU is gone, or goes within a second.
func (p *Provider) dies(inst faastype.Instance) bool {
	deadline := time.Now().Add(time.Second)
	for p.Alive(inst) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
