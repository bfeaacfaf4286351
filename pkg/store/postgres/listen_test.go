package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/pgtest"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/postgres"
)

// A job queued through one store (another server) wakes a listener on
// another.
func TestListenQueue(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	listener, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	other, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	wakes := make(chan struct{}, 10)
	go listener.ListenQueue(lctx, func() { wakes <- struct{}{} })
	wait := func(what string) {
		t.Helper()
		select {
		case <-wakes:
		case <-time.After(30 * time.Second):
			t.Fatalf("no wake %s", what)
		}
	}
	wait("once listening")
	start := time.Now()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := other.EnqueueJob(ctx, store.Job{ID: "j1", Function: "f", Version: 1, Status: store.StatusWaiting, Provider: "local", QueuedAt: now}); err != nil {
		t.Fatal(err)
	}
	wait("for a queued job")
	t.Logf("enqueue → wake: %v", time.Since(start))
}
