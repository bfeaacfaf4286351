package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// querier runs queries: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryEach runs a query and calls each on its rows in turn. An error of
// the query, of each, or met while reading the rows, stops it and comes back
// as storeErr(what, err).
func queryEach(ctx context.Context, q querier, what string, each func(pgx.Rows) error, query string, args ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return storeErr(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return storeErr(what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return storeErr(what, err)
	}
	return nil
}

// queryAll runs a query and returns its rows as scan reads them: nil when
// there are none, or on an error (see queryEach).
func queryAll[T any](ctx context.Context, q querier, what string, scan func(pgx.Rows) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := queryEach(ctx, q, what, func(r pgx.Rows) error {
		x, err := scan(r)
		if err != nil {
			return err
		}
		out = append(out, x)
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryMap runs a query of keys and values and returns them as scan reads
// them: an empty map when there are no rows, nil on an error (see
// queryEach).
func queryMap[K comparable, V any](ctx context.Context, q querier, what string, scan func(pgx.Rows) (K, V, error), query string, args ...any) (map[K]V, error) {
	out := map[K]V{}
	err := queryEach(ctx, q, what, func(r pgx.Rows) error {
		k, v, err := scan(r)
		if err != nil {
			return err
		}
		out[k] = v
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
