package multipass

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

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
