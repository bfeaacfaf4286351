package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/fault"
)

// HandJob records the host that runs a running job's attempt. A job
// handed to another host's worker (remote) is no longer judged by this
// process' id: its runner becomes "worker:HOST" with no pid, and the
// cluster's registry says whether it lives.
func (s *Store) HandJob(ctx context.Context, id, host string, remote bool) error {
	return s.inTx(ctx, "hand job", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE jobs SET host = $1,
			runner_pid = CASE WHEN $2 THEN NULL ELSE runner_pid END,
			runner_host = CASE WHEN $2 THEN $3 ELSE runner_host END
			WHERE id = $4 AND status = 'running'`, host, remote, "worker:"+host, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fault.Platformf("job %s is no longer running", id)
		}
		return nil
	})
}
