package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/store"
)

// rows reads a table for a copy, in the kinds of its columns.
type rows struct {
	t    store.Table
	rs   pgx.Rows
	vals []any
	err  error
}

func (r *rows) Next() bool {
	if r.err != nil || !r.rs.Next() {
		return false
	}
	raw, err := r.rs.Values()
	if err != nil {
		r.err = err
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
	rs, err := s.pool.Query(ctx, `SELECT `+strings.Join(t.ColumnNames(), ", ")+` FROM `+t.Name)
	if err != nil {
		return nil, nil, storeErr("read "+t.Name, err)
	}
	return &rows{t: t, rs: rs}, func() error { rs.Close(); return rs.Err() }, nil
}

// ImportTables writes the rows open reads into each table with COPY, in
// one transaction: a failed import leaves the database as it was.
func (s *Store) ImportTables(ctx context.Context, tables []store.Table, open func(store.Table) (store.Rows, func() error, error)) error {
	return s.inTx(ctx, "import", func(tx pgx.Tx) error {
		for _, t := range tables {
			if err := importTable(ctx, tx, t, open); err != nil {
				return err
			}
		}
		return nil
	})
}

func importTable(ctx context.Context, tx pgx.Tx, t store.Table, open func(store.Table) (store.Rows, func() error, error)) error {
	src, closeSrc, err := open(t)
	if err != nil {
		return err
	}
	defer closeSrc() //nolint:errcheck // a read
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, names, src); err != nil {
		return fmt.Errorf("import %s: %w", t.Name, err)
	}
	if t.Serial != "" {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE(MAX(%s), 0) + 1, false) FROM %s`, t.Name, t.Serial, t.Serial, t.Name)
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("import %s: %w", t.Name, err)
		}
	}
	return nil
}

// Totals counts the rows of each copied table and sums the money in them.
func (s *Store) Totals(ctx context.Context) (store.Totals, error) {
	tot := store.Totals{Rows: map[string]int64{}}
	for _, t := range store.CopyTables {
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.Name).Scan(&n); err != nil {
			return tot, storeErr("count "+t.Name, err)
		}
		tot.Rows[t.Name] = n
	}
	for i, p := range []*int64{&tot.JobPico, &tot.UsagePico, &tot.SpendPico} {
		if err := s.pool.QueryRow(ctx, store.TotalsQueries[i]).Scan(p); err != nil {
			return tot, storeErr("sum", err)
		}
	}
	return tot, nil
}
