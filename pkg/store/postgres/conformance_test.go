package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/engine/storetest"
	"github.com/faasdev/faas/pkg/store/postgres"
)

var _ engine.Store = (*postgres.Store)(nil)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// openDB opens a store on a new database of t's.
func openDB(t *testing.T) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// TestConformance holds the PostgreSQL store to the engine's Store
// contract, on a real server.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{New: func(t *testing.T) (storetest.Store, func() (storetest.Store, error)) {
		s, url := openDB(t)
		return s, func() (storetest.Store, error) { return postgres.Open(context.Background(), url) }
	}})
}
