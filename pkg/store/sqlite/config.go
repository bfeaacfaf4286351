package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Config returns every stored setting.
func (s *Store) Config(ctx context.Context) (map[string]string, error) {
	return queryMap(ctx, s.db, "read config", func(r rowScanner) (k, v string, err error) {
		err = r.Scan(&k, &v)
		return k, v, err
	}, `SELECT key, value FROM config`)
}

// SetConfig stores a setting; an empty value removes it (back to the default).
func (s *Store) SetConfig(ctx context.Context, key, value string, now time.Time) error {
	return s.inTx(ctx, "set "+key, func(tx *sql.Tx) error {
		if value == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM config WHERE key = ?`, key)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO config(key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, toMS(now))
		return err
	})
}

// Spend is what an owner has spent in a month ("2026-11"), in pico-dollars.
func (s *Store) Spend(ctx context.Context, month, owner string) (int64, error) {
	var p int64
	err := s.db.QueryRowContext(ctx, `SELECT pico FROM spend WHERE month = ? AND owner = ?`, month, owner).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, storeErr("read spend", err)
	}
	return p, nil
}

func billWhere(f store.BillFilter) (string, []any) {
	q := ` WHERE day >= ? AND day < ?`
	args := []any{store.Day(f.From), store.Day(f.To)}
	if f.Function != "" {
		q += ` AND function = ?`
		args = append(args, f.Function)
	}
	if f.Owner != "" || f.OwnerSet {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	return q, args
}

// Bill reads a period's sums per function and cost per day from the daily
// roll-up, which every ended job updates in the transaction that records
// its cost, with the month's spend and the settings.
func (s *Store) Bill(ctx context.Context, f store.BillFilter) (store.BillData, error) {
	var d store.BillData
	var err error
	where, args := billWhere(f)
	d.Rows, err = queryAll(ctx, s.db, "bill", func(r rowScanner) (b store.BillRow, err error) {
		err = r.Scan(&b.Function, &b.Invocations, &b.Errors, &b.DurationUS, &b.BilledMS, &b.MBMS, &b.RequestPico, &b.ComputePico)
		return b, err
	}, `SELECT function, SUM(invocations), SUM(errors), SUM(duration_us), SUM(billed_ms),
		SUM(mb_ms), SUM(request_pico), SUM(compute_pico) FROM usage_daily`+where+` GROUP BY function ORDER BY function`, args...)
	if err != nil {
		return d, err
	}
	d.Daily, err = queryMap(ctx, s.db, "bill by day", func(r rowScanner) (day string, pico int64, err error) {
		err = r.Scan(&day, &pico)
		return day, pico, err
	}, `SELECT day, SUM(request_pico + compute_pico) FROM usage_daily`+where+` GROUP BY day`, args...)
	if err != nil {
		return d, err
	}
	if d.Spent, err = s.Spend(ctx, store.Month(f.From), f.Spender); err != nil {
		return d, err
	}
	d.Config, err = s.Config(ctx)
	return d, err
}

// InsertSynthetic inserts the jobs in one statement.
func (s *Store) InsertSynthetic(ctx context.Context, j store.SyntheticJobs) error {
	fail := j.FailEvery
	if fail <= 0 {
		fail = j.N + 1
	}
	return s.inTx(ctx, "insert synthetic jobs", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
			INSERT INTO jobs(id, function, version, owner, status, provider, instance, queued_at, started_at, ended_at,
				duration_us, billed_ms, memory_mb, exit_code, request_pico, compute_pico, cause, trigger)
			SELECT printf('syn:%s:%010d', ?, i), ?, 1, ?, CASE WHEN (i + 1) % ? = 0 THEN 'failed' ELSE 'completed' END,
				'synthetic', '', ? + i * ?, ? + i * ?, ? + i * ? + ?, ?, ?, ?, 0, ?, ?,
				CASE WHEN (i + 1) % ? = 0 THEN 'function' ELSE '' END, ?
			FROM seq`,
			j.N, j.Function, j.Function, j.Owner, fail,
			toMS(j.From), j.Spacing.Milliseconds(), toMS(j.From), j.Spacing.Milliseconds(),
			toMS(j.From), j.Spacing.Milliseconds(), j.DurationUS/1000,
			j.DurationUS, j.BilledMS, j.MemoryMB, j.RequestPico, j.ComputePico, fail, j.Trigger)
		if err != nil {
			return err
		}
		// The roll-up, as FinishJob keeps it. SQLite's localtime and Go's
		// time.Local both follow TZ.
		_, err = tx.ExecContext(ctx, `INSERT INTO usage_daily
			SELECT date(queued_at / 1000, 'unixepoch', 'localtime'), function, owner, COUNT(*), SUM(status != 'completed'),
				SUM(duration_us), SUM(billed_ms), SUM(memory_mb * billed_ms), SUM(request_pico), SUM(compute_pico)
			FROM jobs WHERE id >= printf('syn:%s:', ?) AND id < printf('syn:%s;', ?) GROUP BY 1, 2, 3`+addToDay,
			j.Function, j.Function)
		return err
	})
}

// AddUsage adds usage that did not come from jobs run here (an import, a
// test of the bill's arithmetic) to a day's roll-up.
func (s *Store) AddUsage(ctx context.Context, day time.Time, owner string, r store.BillRow) error {
	return s.inTx(ctx, "add usage", func(tx *sql.Tx) error { return addUsage(ctx, tx, store.Day(day), owner, r) })
}

// addToDay adds a new usage_daily row to the day's row when there is one.
const addToDay = `
	ON CONFLICT(day, function, owner) DO UPDATE SET invocations = invocations + excluded.invocations,
		errors = errors + excluded.errors, duration_us = duration_us + excluded.duration_us,
		billed_ms = billed_ms + excluded.billed_ms, mb_ms = mb_ms + excluded.mb_ms,
		request_pico = request_pico + excluded.request_pico, compute_pico = compute_pico + excluded.compute_pico`

// addUsage adds r to a day's roll-up of r.Function and owner.
func addUsage(ctx context.Context, tx *sql.Tx, day, owner string, r store.BillRow) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO usage_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+addToDay,
		day, r.Function, owner, r.Invocations, r.Errors, r.DurationUS, r.BilledMS, r.MBMS, r.RequestPico, r.ComputePico)
	return err
}

// CreateToken records a token's hash under a new name.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	return s.inTx(ctx, "create token", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE name = ?`, t.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fault.WithHint(fault.Conflictf("a token named %q exists", t.Name),
				"revoke it first with `faas serve token revoke "+t.Name+"`, or choose another name")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens(name, hash, created_at) VALUES (?, ?, ?)`, t.Name, t.Hash, toMS(t.CreatedAt))
		return err
	})
}

// Tokens lists the tokens, by name.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	return queryAll(ctx, s.db, "list tokens", func(r rowScanner) (t store.Token, err error) {
		var at int64
		err = r.Scan(&t.Name, &t.Hash, &at)
		t.CreatedAt = fromMS(at)
		return t, err
	}, `SELECT name, hash, created_at FROM tokens ORDER BY name`)
}

// RevokeToken deletes a token.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.inTx(ctx, "revoke token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.WithHint(fault.NotFoundf("token %q not found", name), "list them with `faas serve token list`")
		}
		return nil
	})
}
