package sqlite

import (
	"context"
	"database/sql"

	"github.com/faasdev/faas/pkg/fault"
)

// HandJob records the host that runs a running job's attempt. A job
// handed to another host's worker (remote) is no longer judged by this
// process' id: its runner becomes "worker:HOST" with no pid, and the
// cluster's registry says whether it lives.
func (s *Store) HandJob(ctx context.Context, id, host string, remote bool) error {
	return s.inTx(ctx, "hand job", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET host = ?,
			runner_pid = CASE WHEN ? THEN NULL ELSE runner_pid END,
			runner_host = CASE WHEN ? THEN ? ELSE runner_host END
			WHERE id = ? AND status = 'running'`, host, remote, remote, "worker:"+host, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fault.Platformf("job %s is no longer running", id)
		}
		return nil
	})
}
