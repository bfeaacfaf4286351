package cmdutil

import (
	"context"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// OpenEngine opens the engine of a FAAS_HOME on its store: the SQLite
// database in the home. This is where the store is chosen.
func OpenEngine(ctx context.Context, home string, opts ...sqlite.Option) (*engine.Engine, error) {
	st, err := sqlite.Open(ctx, home, opts...)
	if err != nil {
		return nil, err
	}
	return engine.New(home, st), nil
}
