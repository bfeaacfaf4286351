package store

import (
	"context"
	"database/sql"
	"time"
)

// Sample is one reading of an instance.
type Sample struct {
	Time      time.Time
	Instance  string
	Function  string
	CPUPct    float64
	MemUsed   int64
	MemTotal  int64
	DiskUsed  int64
	DiskTotal int64
	Load      float64
	InFlight  int
}

// AddSamples records readings in one transaction.
func (s *Store) AddSamples(ctx context.Context, samples []Sample) error {
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

// Activity is a job as `faas top` counts it.
type Activity struct {
	Function string
	Status   string
	Cold     bool
	QueuedAt time.Time
	Duration time.Duration
}

// RecentActivity returns the jobs queued since a time, oldest first.
func (s *Store) RecentActivity(ctx context.Context, since time.Time) ([]Activity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT function, status, cold, queued_at, COALESCE(duration_us, 0)
		FROM jobs WHERE queued_at >= ? ORDER BY queued_at`, toMS(since))
	if err != nil {
		return nil, storeErr("read activity", err)
	}
	defer rows.Close()
	var out []Activity
	for rows.Next() {
		var a Activity
		var q, us int64
		if err := rows.Scan(&a.Function, &a.Status, &a.Cold, &q, &us); err != nil {
			return nil, storeErr("read activity", err)
		}
		a.QueuedAt, a.Duration = fromMS(q), time.Duration(us)*time.Microsecond
		out = append(out, a)
	}
	return out, rows.Err()
}
