package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// Beat records that the runner lives at now and beats every every.
func (s *Store) Beat(ctx context.Context, r store.Runner, now time.Time, every time.Duration) error {
	return s.inTx(ctx, "record heartbeat", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO runners(host, pid, start, seen_at, every_ms) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT(host, pid, start) DO UPDATE SET seen_at = excluded.seen_at, every_ms = excluded.every_ms`,
			r.Host, r.PID, r.Start, ms(now), every.Milliseconds())
		return err
	})
}

// ForgetRunner removes the runner: it stops.
func (s *Store) ForgetRunner(ctx context.Context, r store.Runner) error {
	return s.inTx(ctx, "forget runner", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM runners WHERE host = $1 AND pid = $2 AND start = $3`, r.Host, r.PID, r.Start)
		return err
	})
}

// MarkSilent ends as lost the running jobs of other hosts' runners that
// were not heard from for three of their beats, or, for a runner never
// heard from, within grace of the job's start. One statement: of several
// servers doing it at once, each job is ended by one. Runners silent for a
// day are forgotten.
func (s *Store) MarkSilent(ctx context.Context, now time.Time, grace time.Duration) ([]string, error) {
	var marked []string
	err := s.inTx(ctx, "mark silent runners' jobs lost", func(tx pgx.Tx) error {
		marked = nil
		if _, err := tx.Exec(ctx, `DELETE FROM runners WHERE seen_at < $1`, ms(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		return queryEach(ctx, tx, "mark silent runners' jobs lost", func(r pgx.Rows) error {
			var id string
			err := r.Scan(&id)
			marked = append(marked, id)
			return err
		}, `UPDATE jobs j SET status = 'lost', cause = 'lost', ended_at = $1,
			error = 'the process running this job (pid ' || COALESCE(j.runner_pid, 0) || ' on host ' || j.runner_host ||
				') stopped sending heartbeats before recording its result; ended by host ' || $2
			FROM (SELECT id FROM jobs LEFT JOIN runners r ON r.host = jobs.runner_host AND r.pid = jobs.runner_pid AND r.start = jobs.runner_start
				WHERE jobs.status = 'running' AND jobs.runner_host NOT IN ('', $2)
				AND (r.host IS NULL AND jobs.started_at < $3 OR r.seen_at < $1::timestamptz - 3 * r.every_ms * interval '1 millisecond')) silent
			WHERE j.id = silent.id AND j.status = 'running'
			RETURNING j.id`, ms(now), proc.HostID(), ms(now.Add(-grace)))
	})
	if err != nil {
		return nil, err
	}
	return marked, nil
}

// SharedAcrossHosts says that servers on several hosts may share this
// database: their runners beat (pkg/engine).
func (s *Store) SharedAcrossHosts() bool { return true }
