package sqlite

import (
	"context"
	"database/sql"

	"github.com/faasdev/faas/pkg/store"
)

// RecordCallback records how a job's callback delivery went.
func (s *Store) RecordCallback(ctx context.Context, id string, cb store.Callback) error {
	return s.inTx(ctx, "record callback", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET callback_status = ?, callback_attempts = ?, callback_error = ? WHERE id = ?`,
			cb.Status, cb.Attempts, cb.Error, id)
		return err
	})
}

// ClaimDestination records that a failed job's destination was invoked
// and queues its job, in one transaction, once: claimed is false when it
// was already recorded. A job without an id is not queued: errText says
// why none could be.
func (s *Store) ClaimDestination(ctx context.Context, failedID string, j store.Job, errText string) (claimed bool, err error) {
	err = s.inTx(ctx, "queue the failure destination", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET destination_job = ?, destination_error = ?
			WHERE id = ? AND destination_job = '' AND destination_error = ''`, j.ID, errText, failedID)
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
