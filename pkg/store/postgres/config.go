package postgres

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Config returns every stored setting.
func (s *Store) Config(ctx context.Context) (map[string]string, error) {
	return queryMap(ctx, s.pool, "read config", func(r pgx.Rows) (k, v string, err error) {
		err = r.Scan(&k, &v)
		return k, v, err
	}, `SELECT key, value FROM config`)
}

// SetConfig stores a setting; an empty value removes it (back to the default).
func (s *Store) SetConfig(ctx context.Context, key, value string, now time.Time) error {
	return s.inTx(ctx, "set "+key, func(tx pgx.Tx) error {
		if value == "" {
			_, err := tx.Exec(ctx, `DELETE FROM config WHERE key = $1`, key)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO config(key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, ms(now))
		return err
	})
}

// Spend is what an owner has spent in a month ("2026-11"), in pico-dollars.
func (s *Store) Spend(ctx context.Context, month, owner string) (int64, error) {
	var p int64
	err := s.pool.QueryRow(ctx, `SELECT pico FROM spend WHERE month = $1 AND owner = $2`, month, owner).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, storeErr("read spend", err)
	}
	return p, nil
}

func billWhere(f store.BillFilter) (string, []any) {
	q := ` WHERE day >= $1 AND day < $2`
	args := []any{store.Day(f.From), store.Day(f.To)}
	if f.Function != "" {
		args = append(args, f.Function)
		q += ` AND function = $` + strconv.Itoa(len(args))
	}
	if f.Owner != "" || f.OwnerSet {
		args = append(args, f.Owner)
		q += ` AND owner = $` + strconv.Itoa(len(args))
	}
	return q, args
}

// Bill reads a period's sums per function and cost per day from the daily
// roll-up, which every ended job updates in the transaction that records
// its cost, with the month's spend and the settings: one statement, sent
// unprepared, so a bill costs one round trip to the server (a prepared
// statement costs two the first time, and `faas bill` has no second time).
func (s *Store) Bill(ctx context.Context, f store.BillFilter) (store.BillData, error) {
	where, args := billWhere(f)
	args = append(args, store.Month(f.From), f.Spender)
	month, spender := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
	d := store.BillData{Daily: map[string]int64{}, Config: map[string]string{}}
	// part: 0 a function's sums, 1 a day's cost, 2 the spend, 3 a setting.
	err := queryEach(ctx, s.pool, "bill", func(r pgx.Rows) error {
		var part int
		var key, value string
		var b store.BillRow
		if err := r.Scan(&part, &key, &value, &b.Invocations, &b.Errors, &b.DurationUS, &b.BilledMS, &b.MBMS, &b.RequestPico, &b.ComputePico); err != nil {
			return err
		}
		switch part {
		case 0:
			b.Function = key
			d.Rows = append(d.Rows, b)
		case 1:
			d.Daily[key] = b.RequestPico
		case 2:
			d.Spent = b.RequestPico
		case 3:
			d.Config[key] = value
		}
		return nil
	}, `WITH u AS (SELECT GROUPING(function) AS by_day, function, day, SUM(invocations)::bigint AS invocations,
			SUM(errors)::bigint AS errors, SUM(duration_us)::bigint AS duration_us, SUM(billed_ms)::bigint AS billed_ms,
			SUM(mb_ms)::bigint AS mb_ms, SUM(request_pico)::bigint AS request_pico, SUM(compute_pico)::bigint AS compute_pico
			FROM usage_daily`+where+` GROUP BY GROUPING SETS ((function), (day)))
		SELECT 0, function, '', invocations, errors, duration_us, billed_ms, mb_ms, request_pico, compute_pico FROM u WHERE by_day = 0
		UNION ALL SELECT 1, day, '', 0, 0, 0, 0, 0, request_pico + compute_pico, 0 FROM u WHERE by_day = 1
		UNION ALL SELECT 2, '', '', 0, 0, 0, 0, 0, pico, 0 FROM spend WHERE month = `+month+` AND owner = `+spender+`
		UNION ALL SELECT 3, key, value, 0, 0, 0, 0, 0, 0, 0 FROM config`, append([]any{pgx.QueryExecModeExec}, args...)...)
	// Byte order, as ORDER BY function COLLATE "C" would give.
	sort.Slice(d.Rows, func(i, k int) bool { return d.Rows[i].Function < d.Rows[k].Function })
	return d, err
}

// AddUsage adds usage that did not come from jobs run here (an import, a
// test of the bill's arithmetic) to a day's roll-up.
func (s *Store) AddUsage(ctx context.Context, day time.Time, owner string, r store.BillRow) error {
	return s.inTx(ctx, "add usage", func(tx pgx.Tx) error { return addUsage(ctx, tx, store.Day(day), owner, r) })
}

// addUsage adds r to a day's roll-up of r.Function and owner.
func addUsage(ctx context.Context, tx pgx.Tx, day, owner string, r store.BillRow) error {
	_, err := tx.Exec(ctx, `INSERT INTO usage_daily VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT(day, function, owner) DO UPDATE SET invocations = usage_daily.invocations + excluded.invocations,
			errors = usage_daily.errors + excluded.errors, duration_us = usage_daily.duration_us + excluded.duration_us,
			billed_ms = usage_daily.billed_ms + excluded.billed_ms, mb_ms = usage_daily.mb_ms + excluded.mb_ms,
			request_pico = usage_daily.request_pico + excluded.request_pico, compute_pico = usage_daily.compute_pico + excluded.compute_pico`,
		day, r.Function, owner, r.Invocations, r.Errors, r.DurationUS, r.BilledMS, r.MBMS, r.RequestPico, r.ComputePico)
	return err
}

// CreateToken records a token's hash under a new name.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	err := s.inTx(ctx, "create token", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tokens(name, hash, created_at) VALUES ($1, $2, $3)`, t.Name, t.Hash, ms(t.CreatedAt))
		if isUnique(err, "tokens_pkey") {
			return fault.WithHint(fault.Conflictf("a token named %q exists", t.Name),
				"revoke it first with `faas serve token revoke "+t.Name+"`, or choose another name")
		}
		return err
	})
	return err
}

// Tokens lists the tokens, by name.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	return queryAll(ctx, s.pool, "list tokens", func(r pgx.Rows) (t store.Token, err error) {
		err = r.Scan(&t.Name, &t.Hash, &t.CreatedAt)
		t.CreatedAt = t.CreatedAt.UTC()
		return t, err
	}, `SELECT name, hash, created_at FROM tokens ORDER BY name`)
}

// RevokeToken deletes a token.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.inTx(ctx, "revoke token", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM tokens WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fault.WithHint(fault.NotFoundf("token %q not found", name), "list them with `faas serve token list`")
		}
		return nil
	})
}
