package multipass

import (
	"context"

	"github.com/faasdev/faas/pkg/provider"
)

func init() {
	provider.Register(provider.Registration{
		Name:   Name,
		New:    func(ctx context.Context, home string) (provider.Provider, error) { return New(ctx, home) },
		Detect: detect,
		Rank:   10,
	})
}

// detect says whether the multipass client is installed and its daemon
// answers, for `faas doctor` and `--provider auto`.
func detect(ctx context.Context) provider.Availability {
	bin, v, err := Detect(ctx)
	switch {
	case bin == "":
		return provider.Availability{Detail: "not installed: functions run on the local provider"}
	case err != nil || v.Daemon == "":
		return provider.Availability{Detail: "client " + v.Client + " at " + bin + ", but the daemon does not answer",
			Notice: "multipass is installed but its daemon does not answer"}
	}
	return provider.Availability{Usable: true, Detail: "client " + v.Client + ", daemon " + v.Daemon + " (" + bin + ")"}
}
