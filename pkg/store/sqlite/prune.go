package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// endedBefore selects ended jobs queued before ?1, through jobs_recent.
const endedBefore = ` FROM jobs WHERE queued_at < ?1 AND status IN ('completed', 'failed', 'timeout', 'lost')`

// jobBytes is what a job's payload, result and logs take.
const jobBytes = `COALESCE(length(payload), 0) + COALESCE(length(result), 0) + COALESCE(length(logs), 0)`

// PruneJobs deletes the oldest ended jobs queued before before, at most
// limit of them, in one transaction; the roll-ups bills read (usage_daily,
// spend) are not touched. With dry, it deletes nothing and counts every
// such job.
func (s *Store) PruneJobs(ctx context.Context, before time.Time, limit int, dry bool) (store.Pruned, error) {
	var p store.Pruned
	if dry {
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(`+jobBytes+`), 0)`+endedBefore, toMS(before)).Scan(&p.Jobs, &p.Bytes)
		if err != nil {
			return p, storeErr("count old jobs", err)
		}
		return p, nil
	}
	err := s.inTx(ctx, "prune old jobs", func(tx *sql.Tx) error {
		p = store.Pruned{}
		return queryEach(ctx, tx, "prune old jobs", func(r rowScanner) error {
			var n int64
			err := r.Scan(&n)
			p.Jobs++
			p.Bytes += n
			return err
		}, `DELETE FROM jobs WHERE id IN (SELECT id`+endedBefore+` ORDER BY queued_at LIMIT ?2) RETURNING `+jobBytes, toMS(before), limit)
	})
	return p, err
}
