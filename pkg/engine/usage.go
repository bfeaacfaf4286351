package engine

import (
	"context"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// Usage returns the usage samples of the visible instances taken since a
// time, oldest first: what top and the watcher read, for the dashboard's
// charts of CPU and memory over time.
func (e *Engine) Usage(ctx context.Context, since time.Time) ([]store.Sample, error) {
	owned, err := e.visibleFunctions(ctx)
	if err != nil {
		return nil, err
	}
	all, err := e.store.SamplesSince(ctx, since)
	if err != nil || owned == nil {
		return all, err
	}
	out := all[:0]
	for _, s := range all {
		if owned[s.Function] {
			out = append(out, s)
		}
	}
	return out, nil
}
