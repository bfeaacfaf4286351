package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// StartJob inserts a job that is already running, unplaced (tests).
func (s *Store) StartJob(ctx context.Context, j store.Job) error {
	return s.inTx(ctx, "record job", func(tx pgx.Tx) error { return insertJob(ctx, tx, j) })
}

// insertJob writes a new running job, run on this host (unless the job
// names another: tests).
func insertJob(ctx context.Context, tx pgx.Tx, j store.Job) error {
	host := j.RunnerHost
	if host == "" && j.RunnerPID > 0 {
		host = proc.HostID()
	}
	_, err := tx.Exec(ctx, `INSERT INTO jobs(id, function, version, owner, status, provider, instance, cold,
		queued_at, started_at, memory_mb, payload, runner_pid, runner_start, attempts, timeout_ms, trigger, runner_host, host)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		j.ID, j.Function, j.Version, j.Owner, j.Status, j.Provider, j.Instance, j.Cold,
		ms(j.QueuedAt), nullTime(j.StartedAt), j.MemoryMB, j.Payload, j.RunnerPID, j.RunnerStart, j.Attempts, j.Timeout.Milliseconds(), j.Trigger, host, j.Host)
	return err
}

// FinishJob writes a job's outcome. Only a job still running can finish, so
// a job marked lost by a reconciler is never overwritten. With requeue, the
// run is billed and the job goes back to the queue instead of ending (a
// retry).
func (s *Store) FinishJob(ctx context.Context, j store.Job, requeue bool) error {
	return s.inTx(ctx, "record job result", func(tx pgx.Tx) error {
		// A retried job's runs each add their cost: the job's cost is what
		// all its runs cost.
		status, cause := j.Status, j.Cause
		if requeue {
			status, cause = store.StatusWaiting, faastype.CauseNone
		}
		tag, err := tx.Exec(ctx, `UPDATE jobs SET status = $1, instance = $2, cold = $3, init_ms = $4, started_at = $5,
			ended_at = $6, duration_us = $7, billed_ms = COALESCE(billed_ms, 0) + $8, peak_memory_bytes = $9, exit_code = $10, error = $11,
			result = $12, logs = $13, logs_truncated = $14, request_pico = request_pico + $15, compute_pico = compute_pico + $16,
			runner_pid = CASE WHEN $17 THEN NULL ELSE runner_pid END, cause = $18
			WHERE id = $19 AND status = 'running'`,
			status, j.Instance, j.Cold, j.InitMS, nullTime(j.StartedAt), nullTime(j.EndedAt), j.Duration.Microseconds(),
			j.BilledMS, j.PeakMemoryBytes, j.ExitCode, j.Error, j.Result, j.Logs, j.LogsTruncated, j.RequestPico, j.ComputePico,
			requeue, string(cause), j.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fault.Platformf("job %s was no longer running when it finished (marked lost?)", j.ID)
		}
		if requeue {
			if err := notifyQueue(ctx, tx); err != nil {
				return err
			}
		}
		if cost := j.RequestPico + j.ComputePico; cost > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO spend(month, owner, pico) VALUES ($1, $2, $3)
				ON CONFLICT(month, owner) DO UPDATE SET pico = spend.pico + excluded.pico`, store.Month(j.QueuedAt), j.Owner, cost); err != nil {
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
	err := queryEach(ctx, s.pool, "find running jobs", func(row pgx.Rows) error {
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
		WHERE status = 'running' AND runner_host IN ('', $1)`, proc.HostID())
	if err != nil {
		return nil, err
	}
	if len(dead) == 0 {
		return nil, nil
	}
	var marked []string
	err = s.inTx(ctx, "mark lost jobs", func(tx pgx.Tx) error {
		marked = nil
		return queryEach(ctx, tx, "mark lost jobs", func(r pgx.Rows) error {
			var id string
			err := r.Scan(&id)
			marked = append(marked, id)
			return err
		}, `UPDATE jobs SET status = 'lost', cause = 'lost', ended_at = $1,
			error = 'the process running this job ended before recording its result'
			WHERE id = ANY($2) AND status = 'running' RETURNING id`, ms(now), dead)
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

func scanJob(row pgx.Row, extra ...any) (store.Job, error) {
	var j store.Job
	var queued time.Time
	var started, ended *time.Time
	var dur, billed, peak, rstart *int64
	var rpid *int
	var timeoutMS int64
	var cause string
	dest := []any{&j.ID, &j.Function, &j.Version, &j.Owner, &j.Status, &j.Provider, &j.Instance, &j.Cold, &j.InitMS,
		&queued, &started, &ended, &dur, &billed, &j.MemoryMB, &peak, &j.ExitCode, &j.Error, &j.LogsTruncated, &rpid, &rstart,
		&j.RequestPico, &j.ComputePico, &j.Retries, &j.Attempts, &timeoutMS, &cause, &j.Trigger,
		&j.Callback.URL, &j.Callback.Status, &j.Callback.Attempts, &j.Callback.Error, &j.DestinationJob, &j.DestinationError, &j.Host}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return store.Job{}, err
	}
	j.QueuedAt, j.StartedAt, j.EndedAt = queued.UTC(), utc(started), utc(ended)
	j.Duration = time.Duration(deref(dur)) * time.Microsecond
	j.BilledMS, j.PeakMemoryBytes = deref(billed), deref(peak)
	j.RunnerStart = deref(rstart)
	if rpid != nil {
		j.RunnerPID = *rpid
	}
	j.Timeout = time.Duration(timeoutMS) * time.Millisecond
	j.Cause = faastype.Cause(cause)
	return j, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// GetJob returns one job with its payload, result and logs.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanWhole(s.pool.QueryRow(ctx, selectWhole, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.pool.QueryRow(ctx, `SELECT status, COALESCE(runner_pid, 0), COALESCE(runner_start, 0) FROM jobs WHERE id = $1`, id).
		Scan(&j.Status, &j.RunnerPID, &j.RunnerStart)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Job{}, fault.NotFoundf("job %q not found", id)
	}
	if err != nil {
		return store.Job{}, storeErr("read job "+id, err)
	}
	return j, nil
}

const selectWhole = `SELECT ` + jobColumns + `, payload, result, logs FROM jobs WHERE id = $1`

// scanWhole reads a job with its payload, result and logs.
func scanWhole(row pgx.Row) (store.Job, error) {
	var payload, result, logs []byte
	j, err := scanJob(row, &payload, &result, &logs)
	j.Payload, j.Result, j.Logs = payload, result, logs
	return j, err
}

// ListJobs returns the newest jobs first, without payload, result or logs.
func (s *Store) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+" = $"+strconv.Itoa(len(args)))
	}
	if f.Function != "" {
		add("function", f.Function)
	}
	if f.Status != "" {
		add("status", f.Status)
	}
	if f.Trigger != "" {
		add("trigger", f.Trigger)
	}
	if f.OwnerSet {
		add("owner", f.Owner)
	}
	q := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY queued_at DESC, id DESC"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += " LIMIT $" + strconv.Itoa(len(args))
	}
	return queryAll(ctx, s.pool, "list jobs", func(r pgx.Rows) (store.Job, error) { return scanJob(r) }, q, args...)
}

// CountJobs counts jobs by status (tests).
func (s *Store) CountJobs(ctx context.Context) (map[string]int, error) {
	return queryMap(ctx, s.pool, "count jobs", func(r pgx.Rows) (status string, n int, err error) {
		err = r.Scan(&status, &n)
		return status, n, err
	}, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
}

// RecentLogs returns a function's latest jobs with their logs, oldest
// first: at most limit jobs queued at or after since.
func (s *Store) RecentLogs(ctx context.Context, function string, since time.Time, limit int) ([]store.Job, error) {
	out, err := queryAll(ctx, s.pool, "read logs", func(r pgx.Rows) (store.Job, error) {
		var logs []byte
		j, err := scanJob(r, &logs)
		j.Logs = logs
		return j, err
	}, `SELECT `+jobColumns+`, logs FROM jobs
		WHERE function = $1 AND queued_at >= $2 ORDER BY queued_at DESC, id DESC LIMIT $3`, function, ms(since), limit)
	if err != nil {
		return nil, err
	}
	for i, k := 0, len(out)-1; i < k; i, k = i+1, k-1 {
		out[i], out[k] = out[k], out[i]
	}
	return out, nil
}

// queueChannel is the LISTEN/NOTIFY channel a job joining the queue is
// announced on, for dispatchers that wait on it.
const queueChannel = "faas_queue"

// notifyQueue announces, when tx commits, that a job is waiting.
func notifyQueue(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, queueChannel)
	return err
}

// EnqueueJob records a waiting job (an async invocation) for a dispatcher
// to claim.
func (s *Store) EnqueueJob(ctx context.Context, j store.Job) error {
	return s.inTx(ctx, "queue job", func(tx pgx.Tx) error { return enqueue(ctx, tx, j) })
}

// enqueue inserts a waiting job and wakes the dispatchers.
func enqueue(ctx context.Context, tx pgx.Tx, j store.Job) error {
	_, err := tx.Exec(ctx, `INSERT INTO jobs(id, function, version, owner, status, provider, queued_at, memory_mb,
		payload, retries, timeout_ms, trigger, callback_url, callback_status)
		VALUES ($1, $2, $3, $4, 'waiting', $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		j.ID, j.Function, j.Version, j.Owner, j.Provider, ms(j.QueuedAt), j.MemoryMB, j.Payload, j.Retries,
		j.Timeout.Milliseconds(), j.Trigger, j.Callback.URL, j.Callback.Status)
	if err != nil {
		return err
	}
	return notifyQueue(ctx, tx)
}

// ClaimNext takes the oldest waiting job, atomically: it becomes running,
// run by the process (pid, start), with one more attempt, and is read back
// whole in the same statement. Claimers on any number of connections (and
// hosts) skip the rows another is claiming (FOR UPDATE SKIP LOCKED), so
// each job is claimed once. ok is false when the queue is empty.
func (s *Store) ClaimNext(ctx context.Context, now time.Time, pid int, pidStart int64) (j store.Job, ok bool, err error) {
	err = s.inTx(ctx, "claim queued job", func(tx pgx.Tx) error {
		var err error
		j, err = scanWhole(tx.QueryRow(ctx, `UPDATE jobs SET status = 'running', started_at = $1, runner_pid = $2, runner_start = $3,
			runner_host = $4, attempts = attempts + 1
			WHERE id = (SELECT id FROM jobs WHERE status = 'waiting' ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+jobColumns+`, payload, result, logs`, ms(now), pid, pidStart, proc.HostID()))
		ok = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return j, ok && err == nil, err
}

// CountWaiting counts the queue.
func (s *Store) CountWaiting(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE status = 'waiting'`).Scan(&n); err != nil {
		return 0, storeErr("count queued jobs", err)
	}
	return n, nil
}
