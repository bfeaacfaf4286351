package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Config returns every stored setting.
func (s *Store) Config(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM config`)
	if err != nil {
		return nil, storeErr("read config", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, storeErr("read config", err)
		}
		out[k] = v
	}
	return out, rows.Err()
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

// BillRow is one function's sums over a period.
type BillRow struct {
	Function    string
	Invocations int64
	Errors      int64
	DurationUS  int64
	BilledMS    int64
	MBMS        int64
	RequestPico int64
	ComputePico int64
}

// BillFilter selects the jobs of a bill: ended (completed, failed or timed
// out) and queued in [From, To).
type BillFilter struct {
	From, To time.Time
	Function string
	Owner    string
	// OwnerSet says Owner filters even when empty (the local user).
	OwnerSet bool
}

func (f BillFilter) where() (string, []any) {
	q := ` WHERE queued_at >= ? AND queued_at < ? AND status IN ('completed', 'failed', 'timeout')`
	args := []any{toMS(f.From), toMS(f.To)}
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

// Bill sums a period's jobs per function, from the jobs_bill index alone.
func (s *Store) Bill(ctx context.Context, f BillFilter) ([]BillRow, error) {
	where, args := f.where()
	rows, err := s.db.QueryContext(ctx, `SELECT function, COUNT(*), SUM(status != 'completed'), SUM(COALESCE(duration_us, 0)),
		SUM(COALESCE(billed_ms, 0)), SUM(memory_mb * COALESCE(billed_ms, 0)), SUM(request_pico), SUM(compute_pico)
		FROM jobs INDEXED BY jobs_bill`+where+` GROUP BY function ORDER BY function`, args...)
	if err != nil {
		return nil, storeErr("bill", err)
	}
	defer rows.Close()
	var out []BillRow
	for rows.Next() {
		var r BillRow
		if err := rows.Scan(&r.Function, &r.Invocations, &r.Errors, &r.DurationUS, &r.BilledMS, &r.MBMS, &r.RequestPico, &r.ComputePico); err != nil {
			return nil, storeErr("bill", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DailyCost sums a period's cost per day ("2026-11-03", in the local time
// zone), for the bill's chart.
func (s *Store) DailyCost(ctx context.Context, f BillFilter) (map[string]int64, error) {
	where, args := f.where()
	rows, err := s.db.QueryContext(ctx, `SELECT date(queued_at / 1000, 'unixepoch', 'localtime') AS day, SUM(request_pico + compute_pico)
		FROM jobs INDEXED BY jobs_bill`+where+` GROUP BY day`, args...)
	if err != nil {
		return nil, storeErr("bill by day", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var d string
		var p int64
		if err := rows.Scan(&d, &p); err != nil {
			return nil, storeErr("bill by day", err)
		}
		out[d] = p
	}
	return out, rows.Err()
}
