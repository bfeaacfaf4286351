package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/store"
)

// ClaimTick claims a function's schedule tick and queues its job, in one
// transaction: claimed is false when another process claimed it first.
// A job with no id is not queued: errText says why.
func (s *Store) ClaimTick(ctx context.Context, function string, tick time.Time, j store.Job, errText string, now time.Time) (claimed bool, err error) {
	err = s.inTx(ctx, "claim schedule tick", func(tx pgx.Tx) error {
		claimed = false // a retried transaction starts again
		tag, err := tx.Exec(ctx, `INSERT INTO schedule_runs(function, tick, job_id, error, claimed_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (function, tick) DO NOTHING`, function, ms(tick), j.ID, errText, ms(now))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
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
	return queryMap(ctx, s.pool, "read schedule ticks", func(r pgx.Rows) (fn string, t time.Time, err error) {
		err = r.Scan(&fn, &t)
		return fn, t.UTC(), err
	}, `SELECT function, MAX(tick) FROM schedule_runs GROUP BY function`)
}

// RecordCallback records how a job's callback delivery went.
func (s *Store) RecordCallback(ctx context.Context, id string, cb store.Callback) error {
	return s.inTx(ctx, "record callback", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET callback_status = $1, callback_attempts = $2, callback_error = $3 WHERE id = $4`,
			cb.Status, cb.Attempts, cb.Error, id)
		return err
	})
}

// ClaimDestination records that a failed job's destination was invoked
// and queues its job, in one transaction, once: claimed is false when it
// was already recorded. A job without an id is not queued: errText says
// why none could be.
func (s *Store) ClaimDestination(ctx context.Context, failedID string, j store.Job, errText string) (claimed bool, err error) {
	err = s.inTx(ctx, "queue the failure destination", func(tx pgx.Tx) error {
		claimed = false
		tag, err := tx.Exec(ctx, `UPDATE jobs SET destination_job = $1, destination_error = $2
			WHERE id = $3 AND destination_job = '' AND destination_error = ''`, j.ID, errText, failedID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
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
