package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// Beat records that the runner lives at now and beats every every.
func (s *Store) Beat(ctx context.Context, r store.Runner, now time.Time, every time.Duration) error {
	return s.inTx(ctx, "record heartbeat", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO runners(host, pid, start, seen_at, every_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(host, pid, start) DO UPDATE SET seen_at = excluded.seen_at, every_ms = excluded.every_ms`,
			r.Host, r.PID, r.Start, toMS(now), every.Milliseconds())
		return err
	})
}

// ForgetRunner removes the runner: it stops.
func (s *Store) ForgetRunner(ctx context.Context, r store.Runner) error {
	return s.inTx(ctx, "forget runner", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM runners WHERE host = ? AND pid = ? AND start = ?`, r.Host, r.PID, r.Start)
		return err
	})
}

// MarkSilent ends as lost the running jobs of other hosts' runners that
// were not heard from for three of their beats, or, for a runner never
// heard from, within grace of the job's start. The jobs are found first,
// so that finding none takes no write lock. Runners silent for a day are
// forgotten.
func (s *Store) MarkSilent(ctx context.Context, now time.Time, grace time.Duration) ([]string, error) {
	// ?1 now, ?2 this host, ?3 the start before which a job's runner
	// must have been heard from.
	const silent = ` FROM jobs LEFT JOIN runners r ON r.host = jobs.runner_host AND r.pid = jobs.runner_pid AND r.start = jobs.runner_start
		WHERE jobs.status = 'running' AND jobs.runner_host NOT IN ('', ?2)
		AND (r.host IS NULL AND jobs.started_at < ?3 OR r.seen_at < ?1 - 3 * r.every_ms)`
	args := []any{toMS(now), proc.HostID(), toMS(now.Add(-grace))}
	var found int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+silent, args...).Scan(&found); err != nil {
		return nil, storeErr("find silent runners' jobs", err)
	}
	if found == 0 {
		return nil, nil
	}
	var marked []string
	err := s.inTx(ctx, "mark silent runners' jobs lost", func(tx *sql.Tx) error {
		marked = nil
		if _, err := tx.ExecContext(ctx, `DELETE FROM runners WHERE seen_at < ?`, toMS(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		return queryEach(ctx, tx, "mark silent runners' jobs lost", func(r rowScanner) error {
			var id string
			err := r.Scan(&id)
			marked = append(marked, id)
			return err
		}, `UPDATE jobs SET status = 'lost', cause = 'lost', ended_at = ?1,
			error = 'the process running this job (pid ' || COALESCE(runner_pid, 0) || ' on host ' || runner_host ||
				') stopped sending heartbeats before recording its result; ended by host ' || ?2
			WHERE status = 'running' AND id IN (SELECT jobs.id`+silent+`) RETURNING id`, args...)
	})
	if err != nil {
		return nil, err
	}
	return marked, nil
}
