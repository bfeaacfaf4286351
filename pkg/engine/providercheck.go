package engine

import (
	"context"

	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
)

// checkOnProvider asks the provider a function is deployed to whether its
// config can launch there at all (provider.ConfigChecker), so that deploy
// says so rather than the first invocation.
func (e *Engine) checkOnProvider(ctx context.Context, prov string, cfg function.Config) error {
	if prov == provider.Default {
		return nil
	}
	p, err := e.ProviderFor(ctx, prov)
	if err != nil {
		return err
	}
	if c, ok := p.(provider.ConfigChecker); ok {
		return c.CheckConfig(cfg)
	}
	return nil
}
