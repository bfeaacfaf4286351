package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/store"
)

// rows reads a table for a copy, in the kinds of its columns.
type rows struct {
	t    store.Table
	rs   *sql.Rows
	vals []any
	err  error
}

func (r *rows) Next() bool {
	if r.err != nil || !r.rs.Next() {
		return false
	}
	raw := make([]any, len(r.t.Columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if r.err = r.rs.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, c := range r.t.Columns {
		if raw[i], r.err = store.Normalize(c, raw[i]); r.err != nil {
			r.err = fmt.Errorf("%s: %w", r.t.Name, r.err)
			return false
		}
	}
	r.vals = raw
	return true
}

func (r *rows) Values() ([]any, error) { return r.vals, nil }

func (r *rows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rs.Err()
}

// ExportRows reads every row of a table for `faas db copy`; close ends the
// read.
func (s *Store) ExportRows(ctx context.Context, t store.Table) (store.Rows, func() error, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT `+strings.Join(t.ColumnNames(), ", ")+` FROM `+t.Name)
	if err != nil {
		return nil, nil, storeErr("read "+t.Name, err)
	}
	return &rows{t: t, rs: rs}, rs.Close, nil
}

// ImportTables writes the rows open reads into each table, in one
// transaction: a failed import leaves the database as it was.
func (s *Store) ImportTables(ctx context.Context, tables []store.Table, open func(store.Table) (store.Rows, func() error, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("import", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	for _, t := range tables {
		if err := importTable(ctx, tx, t, open); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return storeErr("import", err)
	}
	return nil
}

func importTable(ctx context.Context, tx *sql.Tx, t store.Table, open func(store.Table) (store.Rows, func() error, error)) error {
	src, closeSrc, err := open(t)
	if err != nil {
		return err
	}
	defer closeSrc() //nolint:errcheck // a read
	q := `INSERT INTO ` + t.Name + `(` + strings.Join(t.ColumnNames(), ", ") + `) VALUES (?` + strings.Repeat(", ?", len(t.Columns)-1) + `)`
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return storeErr("import "+t.Name, err)
	}
	defer st.Close()
	for src.Next() {
		vals, err := src.Values()
		if err != nil {
			return err
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case time.Time:
				args[i] = toMS(x)
			case bool:
				args[i] = boolInt(x)
			default:
				args[i] = v
			}
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return storeErr("import "+t.Name, err)
		}
	}
	if err := src.Err(); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Totals counts the rows of each copied table and sums the money in them.
func (s *Store) Totals(ctx context.Context) (store.Totals, error) {
	tot := store.Totals{Rows: map[string]int64{}}
	for _, t := range store.CopyTables {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.Name).Scan(&n); err != nil {
			return tot, storeErr("count "+t.Name, err)
		}
		tot.Rows[t.Name] = n
	}
	for i, p := range []*int64{&tot.JobPico, &tot.UsagePico, &tot.SpendPico} {
		if err := s.db.QueryRowContext(ctx, store.TotalsQueries[i]).Scan(p); err != nil {
			return tot, storeErr("sum", err)
		}
	}
	return tot, nil
}
