package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// AddSamples records readings in one transaction.
func (s *Store) AddSamples(ctx context.Context, samples []store.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	return s.inTx(ctx, "record usage samples", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO usage_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, x := range samples {
			if _, err := st.ExecContext(ctx, toMS(x.Time), x.Instance, x.Function, x.CPUPct, x.MemUsed, x.MemTotal,
				x.DiskUsed, x.DiskTotal, x.Load, x.InFlight); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecentActivity returns the jobs queued since a time, oldest first.
func (s *Store) RecentActivity(ctx context.Context, since time.Time) ([]store.Activity, error) {
	return queryAll(ctx, s.db, "read activity", func(r rowScanner) (a store.Activity, err error) {
		var q, us int64
		err = r.Scan(&a.Function, &a.Status, &a.Cold, &q, &us)
		a.QueuedAt, a.Duration = fromMS(q), time.Duration(us)*time.Microsecond
		return a, err
	}, `SELECT function, status, cold, queued_at, COALESCE(duration_us, 0)
		FROM jobs WHERE queued_at >= ? ORDER BY queued_at`, toMS(since))
}
