package multipass

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// Resize drains nothing itself (the caller stops placing jobs first), then
// stops the VM, sets its CPUs, memory and disk (disk only grows), and
// starts it and its agent again. A `set` that fails undoes the ones before
// it, and the VM is started again whatever happened: the engine marks the
// instance ready after a resize, failed or not, and records the new size
// only when it succeeded.
func (p *Provider) Resize(ctx context.Context, inst faastype.Instance, cpus int, memoryMB, diskMB int64) error {
	vm := VMName(inst.ID)
	if _, err := p.R.Run(ctx, startTimeout, "stop", vm); err != nil {
		return platform(err)
	}
	// Not cut short by the caller from here: a VM left stopped would be
	// taken for a ready instance.
	ctx = context.WithoutCancel(ctx)
	type setting struct{ key, value, was string }
	sets := []setting{{key: "cpus", value: strconv.Itoa(cpus)}, {key: "memory", value: function.FormatSize(memoryMB)}}
	if diskMB > 0 {
		sets = append(sets, setting{key: "disk", value: function.FormatSize(diskMB)})
	}
	for i := range sets[:len(sets)-1] { // the last one has nothing after it to undo
		// multipass takes back what it prints (1.0GiB).
		if out, err := p.R.Run(ctx, quickTimeout, "get", "--raw", "local."+vm+"."+sets[i].key); err == nil {
			sets[i].was = strings.TrimSpace(string(out))
		}
	}
	var setErr error
	for i, s := range sets {
		_, err := p.R.Run(ctx, quickTimeout, "set", "local."+vm+"."+s.key+"="+s.value)
		if err == nil {
			continue
		}
		undone := true
		for _, prev := range sets[:i] {
			if prev.was == "" {
				undone = false
				continue
			}
			if _, err := p.R.Run(ctx, quickTimeout, "set", "local."+vm+"."+prev.key+"="+prev.was); err != nil {
				undone = false
			}
		}
		size := "at its old size"
		if !undone {
			size = "with part of the new size"
		}
		setErr = fault.Platformf("resize %s: %w; it runs again %s", vm, err, size)
		break
	}
	if err := p.boot(ctx, inst); err != nil {
		if setErr != nil {
			return fault.Platformf("resize %s: %v; starting it again failed too: %w", vm, errors.Unwrap(setErr), err)
		}
		return err
	}
	return setErr
}
