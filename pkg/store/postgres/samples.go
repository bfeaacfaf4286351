package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/store"
)

// AddSamples records readings in one transaction (one COPY).
func (s *Store) AddSamples(ctx context.Context, samples []store.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	return s.inTx(ctx, "record usage samples", func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_samples"},
			[]string{"time", "instance", "function", "cpu_pct", "mem_used", "mem_total", "disk_used", "disk_total", "load", "in_flight"},
			pgx.CopyFromSlice(len(samples), func(i int) ([]any, error) {
				x := samples[i]
				return []any{ms(x.Time), x.Instance, x.Function, x.CPUPct, x.MemUsed, x.MemTotal, x.DiskUsed, x.DiskTotal, x.Load, x.InFlight}, nil
			}))
		return err
	})
}

// RecentActivity returns the jobs queued since a time, oldest first.
func (s *Store) RecentActivity(ctx context.Context, since time.Time) ([]store.Activity, error) {
	return queryAll(ctx, s.pool, "read activity", func(r pgx.Rows) (a store.Activity, err error) {
		var us int64
		err = r.Scan(&a.Function, &a.Status, &a.Cold, &a.QueuedAt, &us)
		a.QueuedAt, a.Duration = a.QueuedAt.UTC(), time.Duration(us)*time.Microsecond
		return a, err
	}, `SELECT function, status, cold, queued_at, COALESCE(duration_us, 0)
		FROM jobs WHERE queued_at >= $1 ORDER BY queued_at`, ms(since))
}
