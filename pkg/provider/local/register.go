package local

import (
	"context"

	"github.com/faasdev/faas/pkg/provider"
)

func init() {
	provider.Register(provider.Registration{
		Name: Name,
		New:  func(_ context.Context, home string) (provider.Provider, error) { return New(home) },
	})
}
