package sqlite_test

import (
	"context"
	"testing"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/engine/storetest"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

var _ engine.Store = (*sqlite.Store)(nil)

// TestConformance holds the SQLite store to the engine's Store contract.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{New: func(t *testing.T) (storetest.Store, func() (storetest.Store, error)) {
		home := t.TempDir()
		return openStore(t, home), func() (storetest.Store, error) { return sqlite.Open(context.Background(), home) }
	}})
}
