package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// AddScaleEvent records a decision.
func (s *Store) AddScaleEvent(ctx context.Context, e store.ScaleEvent) error {
	return s.inTx(ctx, "record scale event", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO scale_events(time, function, instance, kind, reason, outcome) VALUES ($1, $2, $3, $4, $5, $6)`,
			ms(e.Time), e.Function, e.Instance, e.Kind, e.Reason, e.Outcome)
		return err
	})
}

// ScaleEvents lists decisions since a time, newest first.
func (s *Store) ScaleEvents(ctx context.Context, function string, since time.Time, limit int) ([]store.ScaleEvent, error) {
	q := `SELECT id, time, function, instance, kind, reason, outcome FROM scale_events WHERE time >= $1`
	args := []any{ms(since)}
	if function != "" {
		args = append(args, function)
		q += ` AND function = $` + strconv.Itoa(len(args))
	}
	args = append(args, limit)
	q += ` ORDER BY time DESC, id DESC LIMIT $` + strconv.Itoa(len(args))
	return queryAll(ctx, s.pool, "list scale events", func(r pgx.Rows) (e store.ScaleEvent, err error) {
		err = r.Scan(&e.ID, &e.Time, &e.Function, &e.Instance, &e.Kind, &e.Reason, &e.Outcome)
		e.Time = e.Time.UTC()
		return e, err
	}, q, args...)
}

// SamplesSince returns the usage samples taken since a time, oldest first.
func (s *Store) SamplesSince(ctx context.Context, since time.Time) ([]store.Sample, error) {
	return queryAll(ctx, s.pool, "read samples", func(r pgx.Rows) (x store.Sample, err error) {
		err = r.Scan(&x.Time, &x.Instance, &x.Function, &x.CPUPct, &x.MemUsed, &x.MemTotal, &x.DiskUsed, &x.DiskTotal, &x.Load, &x.InFlight)
		x.Time = x.Time.UTC()
		return x, err
	}, `SELECT time, instance, function, cpu_pct, mem_used, mem_total, disk_used, disk_total, load, in_flight
		FROM usage_samples WHERE time >= $1 ORDER BY time`, ms(since))
}

// LastJobs returns when each function was last busy: the latest end of
// its jobs, or now for a job still running.
func (s *Store) LastJobs(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	return queryMap(ctx, s.pool, "read last jobs", func(r pgx.Rows) (fn string, last time.Time, err error) {
		err = r.Scan(&fn, &last)
		return fn, last.UTC(), err
	}, `SELECT function, MAX(CASE WHEN status IN ('waiting', 'running') THEN $1 ELSE COALESCE(ended_at, queued_at) END)
		FROM jobs GROUP BY function`, ms(now))
}

// NewInstance records a new starting instance of a function, for the
// watcher to launch (scale-out, warm pool), unless the function already
// has max_instances: checked in the transaction, which holds the
// function's placement lock, since invocations add instances too.
func (s *Store) NewInstance(ctx context.Context, fn string, pl store.Placement, now time.Time) (faastype.Instance, error) {
	var in faastype.Instance
	err := s.inTx(ctx, "add instance", func(tx pgx.Tx) error {
		if err := lockInstances(ctx, tx, fn, pl); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM instances WHERE function = $1 AND provider = $2
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
	return s.inTx(ctx, "set instance state", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instances SET state = $1, updated_at = $2 WHERE id = $3`, state, ms(now), id)
		return err
	})
}

// ResizeInstance records an instance's new size.
func (s *Store) ResizeInstance(ctx context.Context, id string, cpus int, memoryMB, diskMB int64, now time.Time) error {
	return s.inTx(ctx, "resize instance", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instances SET cpus = $1, memory_mb = $2, disk_mb = $3, updated_at = $4 WHERE id = $5`, cpus, memoryMB, diskMB, ms(now), id)
		return err
	})
}
