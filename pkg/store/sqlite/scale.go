package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// AddScaleEvent records a decision.
func (s *Store) AddScaleEvent(ctx context.Context, e store.ScaleEvent) error {
	return s.inTx(ctx, "record scale event", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scale_events(time, function, instance, kind, reason, outcome) VALUES (?, ?, ?, ?, ?, ?)`,
			toMS(e.Time), e.Function, e.Instance, e.Kind, e.Reason, e.Outcome)
		return err
	})
}

// ScaleEvents lists decisions since a time, newest first.
func (s *Store) ScaleEvents(ctx context.Context, function string, since time.Time, limit int) ([]store.ScaleEvent, error) {
	q := `SELECT id, time, function, instance, kind, reason, outcome FROM scale_events WHERE time >= ?`
	args := []any{toMS(since)}
	if function != "" {
		q += ` AND function = ?`
		args = append(args, function)
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	return queryAll(ctx, s.db, "list scale events", func(r rowScanner) (e store.ScaleEvent, err error) {
		var t int64
		err = r.Scan(&e.ID, &t, &e.Function, &e.Instance, &e.Kind, &e.Reason, &e.Outcome)
		e.Time = fromMS(t)
		return e, err
	}, q, args...)
}

// SamplesSince returns the usage samples taken since a time, oldest first.
func (s *Store) SamplesSince(ctx context.Context, since time.Time) ([]store.Sample, error) {
	return queryAll(ctx, s.db, "read samples", func(r rowScanner) (x store.Sample, err error) {
		var t int64
		err = r.Scan(&t, &x.Instance, &x.Function, &x.CPUPct, &x.MemUsed, &x.MemTotal, &x.DiskUsed, &x.DiskTotal, &x.Load, &x.InFlight)
		x.Time = fromMS(t)
		return x, err
	}, `SELECT time, instance, function, cpu_pct, mem_used, mem_total, disk_used, disk_total, load, in_flight
		FROM usage_samples WHERE time >= ? ORDER BY time`, toMS(since))
}

// LastJobs returns when each function was last busy: the latest end of
// its jobs, or now for a job still running.
func (s *Store) LastJobs(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	return queryMap(ctx, s.db, "read last jobs", func(r rowScanner) (fn string, last time.Time, err error) {
		var ms int64
		err = r.Scan(&fn, &ms)
		return fn, fromMS(ms), err
	}, `SELECT function, MAX(CASE WHEN status IN ('waiting', 'running') THEN ? ELSE COALESCE(ended_at, queued_at) END)
		FROM jobs GROUP BY function`, toMS(now))
}

// NewInstance records a new starting instance of a function, for the
// watcher to launch (scale-out, warm pool), unless the function already
// has max_instances: checked in the transaction, since invocations add
// instances too.
func (s *Store) NewInstance(ctx context.Context, fn string, pl store.Placement, now time.Time) (faastype.Instance, error) {
	var in faastype.Instance
	err := s.inTx(ctx, "add instance", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE function = ? AND provider = ?
			AND state IN ('starting', 'ready', 'draining')`, fn, pl.Provider).Scan(&n); err != nil {
			return err
		}
		if n >= pl.MaxInstances {
			return store.ErrAtMax
		}
		var err error
		in, err = insertInstance(ctx, tx, fn, pl, now)
		return err
	})
	return in, err
}

// SetInstanceState records an instance's state (draining while resized).
func (s *Store) SetInstanceState(ctx context.Context, id, state string, now time.Time) error {
	return s.inTx(ctx, "set instance state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE instances SET state = ?, updated_at = ? WHERE id = ?`, state, toMS(now), id)
		return err
	})
}

// ResizeInstance records an instance's new size.
func (s *Store) ResizeInstance(ctx context.Context, id string, cpus int, memoryMB, diskMB int64, now time.Time) error {
	return s.inTx(ctx, "resize instance", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE instances SET cpus = ?, memory_mb = ?, disk_mb = ?, updated_at = ? WHERE id = ?`, cpus, memoryMB, diskMB, toMS(now), id)
		return err
	})
}
