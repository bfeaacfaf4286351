package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// ClaimTick claims a function's schedule tick and queues its job, in one
// transaction: claimed is false when another process claimed it first.
// A job with no id is not queued: errText says why.
func (s *Store) ClaimTick(ctx context.Context, function string, tick time.Time, j store.Job, errText string, now time.Time) (claimed bool, err error) {
	err = s.inTx(ctx, "claim schedule tick", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO schedule_runs(function, tick, job_id, error, claimed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(function, tick) DO NOTHING`, function, toMS(tick), j.ID, errText, toMS(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		claimed = true
		if j.ID == "" {
			return nil
		}
		return enqueue(ctx, tx, j)
	})
	return claimed && err == nil, err
}

// LastTicks is each function's latest claimed tick.
func (s *Store) LastTicks(ctx context.Context) (map[string]time.Time, error) {
	return queryMap(ctx, s.db, "read schedule ticks", func(r rowScanner) (fn string, t time.Time, err error) {
		var ms int64
		err = r.Scan(&fn, &ms)
		return fn, fromMS(ms), err
	}, `SELECT function, MAX(tick) FROM schedule_runs GROUP BY function`)
}
