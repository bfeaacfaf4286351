package engine

import (
	"context"
	"time"

	"github.com/faasdev/faas/pkg/dispatcher"
	"github.com/faasdev/faas/pkg/store"
)

// The records the commands and the server read beside the use cases: they
// go through the engine, so that nothing above it reaches for its store.

// Tokens lists the server's API tokens, by name.
func (e *Engine) Tokens(ctx context.Context) ([]store.Token, error) {
	return e.store.Tokens(ctx)
}

// ScaleEvents lists up to limit scale events since since (all with the zero
// time), newest first; function "" means every function.
func (e *Engine) ScaleEvents(ctx context.Context, function string, since time.Time, limit int) ([]store.ScaleEvent, error) {
	return e.store.ScaleEvents(ctx, function, since, limit)
}

// QueueDepth counts the queued (waiting) jobs.
func (e *Engine) QueueDepth(ctx context.Context) (int, error) {
	return e.store.CountWaiting(ctx)
}

// EnsureQueueRunner makes sure something runs the jobs queued on this
// home: a live `faas serve`, else a detached dispatcher (dispatcher.Ensure).
func (e *Engine) EnsureQueueRunner(context.Context) error {
	return dispatcher.Ensure(e.Home)
}
