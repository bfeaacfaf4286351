package multipass

import (
	"context"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/provider/vmagent"
)

func init() {
	provider.Register(provider.Registration{
		Name:   Name,
		New:    func(ctx context.Context, home string) (provider.Provider, error) { return New(ctx, home) },
		Detect: detect,
		Rank:   10,
	})
}

// detect says whether the multipass client is installed, its daemon
// answers and there is a static agent for its VMs, for `faas doctor` and
// `--provider auto`.
func detect(ctx context.Context) provider.Availability {
	bin, v, err := Detect(ctx)
	switch {
	case bin == "":
		return provider.Availability{Detail: "not installed: functions run on the local provider"}
	case err != nil || v.Daemon == "":
		return provider.Availability{Detail: "client " + v.Client + " at " + bin + ", but the daemon does not answer",
			Notice: "multipass is installed but its daemon does not answer"}
	}
	detail := "client " + v.Client + ", daemon " + v.Daemon + " (" + bin + ")"
	agent, err := vmagent.Find()
	if err != nil {
		return provider.Availability{Detail: detail + ", but no agent for its VMs: " + err.Error() + "; " + fault.HintOf(err),
			Notice: "multipass is installed but faas has no static agent for its VMs (faas doctor says more)"}
	}
	return provider.Availability{Usable: true, Detail: detail + ", agent " + agent}
}
