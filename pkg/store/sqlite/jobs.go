package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// StartJob inserts a job that is already running, unplaced (tests).
func (s *Store) StartJob(ctx context.Context, j store.Job) error {
	return s.inTx(ctx, "record job", func(tx *sql.Tx) error { return insertJob(ctx, tx, j) })
}

// insertJob writes a new running job, run on this host (unless the job
// names another: tests).
func insertJob(ctx context.Context, tx *sql.Tx, j store.Job) error {
	host := j.RunnerHost
	if host == "" && j.RunnerPID > 0 {
		host = proc.HostID()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs(id, function, version, owner, status, provider, instance, cold,
		queued_at, started_at, memory_mb, payload, runner_pid, runner_start, attempts, timeout_ms, trigger, runner_host, host)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Function, j.Version, j.Owner, j.Status, j.Provider, j.Instance, j.Cold,
		toMS(j.QueuedAt), nullMS(j.StartedAt), j.MemoryMB, j.Payload, j.RunnerPID, j.RunnerStart, j.Attempts, j.Timeout.Milliseconds(), j.Trigger, host, j.Host)
	return err
}

// FinishJob writes a job's outcome. Only a job still running can finish, so
// a job marked lost by a reconciler is never overwritten. With requeue, the
// run is billed and the job goes back to the queue instead of ending (a
// retry).
func (s *Store) FinishJob(ctx context.Context, j store.Job, requeue bool) error {
	return s.inTx(ctx, "record job result", func(tx *sql.Tx) error {
		var exit sql.NullInt64
		if j.ExitCode != nil {
			exit = sql.NullInt64{Int64: int64(*j.ExitCode), Valid: true}
		}
		// A retried job's runs each add their cost: the job's cost is what
		// all its runs cost.
		status, cause := j.Status, j.Cause
		if requeue {
			status, cause = store.StatusWaiting, faastype.CauseNone
		}
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, instance = ?, cold = ?, init_ms = ?, started_at = ?,
			ended_at = ?, duration_us = ?, billed_ms = COALESCE(billed_ms, 0) + ?, peak_memory_bytes = ?, exit_code = ?, error = ?,
			result = ?, logs = ?, logs_truncated = ?, request_pico = request_pico + ?, compute_pico = compute_pico + ?,
			runner_pid = CASE WHEN ? THEN NULL ELSE runner_pid END, cause = ?
			WHERE id = ? AND status = 'running'`,
			status, j.Instance, j.Cold, j.InitMS, nullMS(j.StartedAt), nullMS(j.EndedAt), j.Duration.Microseconds(),
			j.BilledMS, j.PeakMemoryBytes, exit, j.Error, j.Result, j.Logs, j.LogsTruncated, j.RequestPico, j.ComputePico,
			requeue, cause, j.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fault.Platformf("job %s was no longer running when it finished (marked lost?)", j.ID)
		}
		if cost := j.RequestPico + j.ComputePico; cost > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO spend(month, owner, pico) VALUES (?, ?, ?)
				ON CONFLICT(month, owner) DO UPDATE SET pico = pico + excluded.pico`, store.Month(j.QueuedAt), j.Owner, cost); err != nil {
				return err
			}
		}
		failed := 0
		if j.Status != store.StatusCompleted {
			failed = 1
		}
		return addUsage(ctx, tx, store.Day(j.QueuedAt), j.Owner, store.BillRow{Function: j.Function, Invocations: 1, Errors: int64(failed),
			DurationUS: j.Duration.Microseconds(), BilledMS: j.BilledMS, MBMS: j.MemoryMB * j.BilledMS,
			RequestPico: j.RequestPico, ComputePico: j.ComputePico})
	})
}

// MarkLost ends running jobs whose runner is gone. alive says whether the
// runner (pid, start time) still exists. It returns the ids it marked.
func (s *Store) MarkLost(ctx context.Context, now time.Time, alive func(pid int, start int64) bool) ([]string, error) {
	var dead []string
	type runner struct {
		pid   int
		start int64
	}
	checked := map[runner]bool{} // most running jobs share a runner: look once
	err := queryEach(ctx, s.db, "find running jobs", func(row rowScanner) error {
		var id string
		var r runner
		if err := row.Scan(&id, &r.pid, &r.start); err != nil {
			return err
		}
		if r.pid <= 0 {
			return nil
		}
		up, seen := checked[r]
		if !seen {
			up = alive(r.pid, r.start)
			checked[r] = up
		}
		if !up {
			dead = append(dead, id)
		}
		return nil
	}, `SELECT id, COALESCE(runner_pid, 0), COALESCE(runner_start, 0) FROM jobs
		WHERE status = 'running' AND runner_host IN ('', ?)`, proc.HostID())
	if err != nil {
		return nil, err
	}
	if len(dead) == 0 {
		return nil, nil
	}
	var marked []string
	err = s.inTx(ctx, "mark lost jobs", func(tx *sql.Tx) error {
		for _, id := range dead {
			res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'lost', cause = 'lost', ended_at = ?,
				error = 'the process running this job ended before recording its result' WHERE id = ? AND status = 'running'`, toMS(now), id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				marked = append(marked, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return marked, nil
}

const jobColumns = `id, function, version, owner, status, provider, instance, cold, init_ms, queued_at, started_at, ended_at,
	duration_us, billed_ms, memory_mb, peak_memory_bytes, exit_code, error, logs_truncated, runner_pid, runner_start,
	request_pico, compute_pico, retries, attempts, timeout_ms, cause, trigger,
	callback_url, callback_status, callback_attempts, callback_error, destination_job, destination_error, host`

func scanJob(row rowScanner, extra ...any) (store.Job, error) {
	var j store.Job
	var queued int64
	var started, ended, dur, billed, peak, exit, rpid, rstart sql.NullInt64
	var timeoutMS int64
	dest := []any{&j.ID, &j.Function, &j.Version, &j.Owner, &j.Status, &j.Provider, &j.Instance, &j.Cold, &j.InitMS,
		&queued, &started, &ended, &dur, &billed, &j.MemoryMB, &peak, &exit, &j.Error, &j.LogsTruncated, &rpid, &rstart,
		&j.RequestPico, &j.ComputePico, &j.Retries, &j.Attempts, &timeoutMS, &j.Cause, &j.Trigger,
		&j.Callback.URL, &j.Callback.Status, &j.Callback.Attempts, &j.Callback.Error, &j.DestinationJob, &j.DestinationError, &j.Host}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return store.Job{}, err
	}
	j.QueuedAt, j.StartedAt, j.EndedAt = fromMS(queued), fromNullMS(started), fromNullMS(ended)
	j.Duration = time.Duration(dur.Int64) * time.Microsecond
	j.BilledMS, j.PeakMemoryBytes = billed.Int64, peak.Int64
	j.RunnerPID, j.RunnerStart = int(rpid.Int64), rstart.Int64
	j.Timeout = time.Duration(timeoutMS) * time.Millisecond
	if exit.Valid {
		c := int(exit.Int64)
		j.ExitCode = &c
	}
	return j, nil
}

// GetJob returns one job with its payload, result and logs.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanWhole(s.db.QueryRowContext(ctx, selectWhole, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, fault.WithHint(fault.NotFoundf("job %q not found", id), "run `faas jobs` to see recent jobs")
	}
	if err != nil {
		return store.Job{}, storeErr("read job "+id, err)
	}
	return j, nil
}

// JobState is what a waiter polls: a job's status and its runner.
func (s *Store) JobState(ctx context.Context, id string) (store.Job, error) {
	var j store.Job
	err := s.db.QueryRowContext(ctx, `SELECT status, COALESCE(runner_pid, 0), COALESCE(runner_start, 0) FROM jobs WHERE id = ?`, id).
		Scan(&j.Status, &j.RunnerPID, &j.RunnerStart)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, fault.NotFoundf("job %q not found", id)
	}
	if err != nil {
		return store.Job{}, storeErr("read job "+id, err)
	}
	return j, nil
}

const selectWhole = `SELECT ` + jobColumns + `, payload, result, logs FROM jobs WHERE id = ?`

// scanWhole reads a job with its payload, result and logs.
func scanWhole(row rowScanner) (store.Job, error) {
	var payload, result, logs []byte
	j, err := scanJob(row, &payload, &result, &logs)
	j.Payload, j.Result, j.Logs = payload, result, logs
	return j, err
}

// ListJobs returns the newest jobs first, without payload, result or logs.
func (s *Store) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var where []string
	var args []any
	if f.Function != "" {
		where = append(where, "function = ?")
		args = append(args, f.Function)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Trigger != "" {
		where = append(where, "trigger = ?")
		args = append(args, f.Trigger)
	}
	if f.OwnerSet {
		where = append(where, "owner = ?")
		args = append(args, f.Owner)
	}
	q := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY queued_at DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return queryAll(ctx, s.db, "list jobs", func(r rowScanner) (store.Job, error) { return scanJob(r) }, q, args...)
}

// CountJobs counts jobs by status (tests).
func (s *Store) CountJobs(ctx context.Context) (map[string]int, error) {
	return queryMap(ctx, s.db, "count jobs", func(r rowScanner) (status string, n int, err error) {
		err = r.Scan(&status, &n)
		return status, n, err
	}, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
}

// RecentLogs returns a function's latest jobs with their logs, oldest
// first: at most limit jobs queued at or after since.
func (s *Store) RecentLogs(ctx context.Context, function string, since time.Time, limit int) ([]store.Job, error) {
	out, err := queryAll(ctx, s.db, "read logs", func(r rowScanner) (store.Job, error) {
		var logs []byte
		j, err := scanJob(r, &logs)
		j.Logs = logs
		return j, err
	}, `SELECT `+jobColumns+`, logs FROM jobs
		WHERE function = ? AND queued_at >= ? ORDER BY queued_at DESC, id DESC LIMIT ?`, function, toMS(since), limit)
	if err != nil {
		return nil, err
	}
	for i, k := 0, len(out)-1; i < k; i, k = i+1, k-1 {
		out[i], out[k] = out[k], out[i]
	}
	return out, nil
}

// EnqueueJob records a waiting job (an async invocation) for a dispatcher
// to claim.
func (s *Store) EnqueueJob(ctx context.Context, j store.Job) error {
	return s.inTx(ctx, "queue job", func(tx *sql.Tx) error { return enqueue(ctx, tx, j) })
}

// enqueue inserts a waiting job.
func enqueue(ctx context.Context, tx *sql.Tx, j store.Job) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs(id, function, version, owner, status, provider, queued_at, memory_mb,
		payload, retries, timeout_ms, trigger, callback_url, callback_status) VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Function, j.Version, j.Owner, j.Provider, toMS(j.QueuedAt), j.MemoryMB, j.Payload, j.Retries,
		j.Timeout.Milliseconds(), j.Trigger, j.Callback.URL, j.Callback.Status)
	return err
}

// ClaimNext takes the oldest waiting job, atomically: it becomes running,
// run by the process (pid, start), with one more attempt, and is read back
// whole in the same transaction. ok is false when the queue is empty.
func (s *Store) ClaimNext(ctx context.Context, now time.Time, pid int, pidStart int64) (j store.Job, ok bool, err error) {
	err = s.inTx(ctx, "claim queued job", func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE status = 'waiting' ORDER BY queued_at, id LIMIT 1`).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE jobs SET status = 'running', started_at = ?, runner_pid = ?, runner_start = ?,
			runner_host = ?, attempts = attempts + 1 WHERE id = ? AND status = 'waiting'`, toMS(now), pid, pidStart, proc.HostID(), id); err != nil {
			return err
		}
		j, err = scanWhole(tx.QueryRowContext(ctx, selectWhole, id))
		ok = err == nil
		return err
	})
	return j, ok && err == nil, err
}

// CountWaiting counts the queue.
func (s *Store) CountWaiting(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE status = 'waiting'`).Scan(&n); err != nil {
		return 0, storeErr("count queued jobs", err)
	}
	return n, nil
}
