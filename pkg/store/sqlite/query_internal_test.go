package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/fault"
)

func scanInt(r rowScanner) (int, error) {
	var n int
	err := r.Scan(&n)
	return n, err
}

func TestQueryAll(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	const count = `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i FROM c WHERE i <= ?`

	got, err := queryAll(ctx, s.db, "count", scanInt, count, 3, 3)
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("queryAll = %v, %v; want [1 2 3]", got, err)
	}
	// No rows: nil, as a method's `var out []T` gave.
	got, err = queryAll(ctx, s.db, "count", scanInt, count, 3, 0)
	if err != nil || got != nil {
		t.Errorf("queryAll of no rows = %#v, %v; want nil, nil", got, err)
	}

	// The query's error, scan's, and the rows' are each storeErr(what, …).
	check := func(name string, got []int, err error, want error) {
		t.Helper()
		if got != nil || err == nil || fault.KindOf(err) != fault.Platform || !strings.HasPrefix(err.Error(), "step: ") {
			t.Errorf("%s: %v, %v; want nil and a platform error \"step: …\"", name, got, err)
		}
		if want != nil && !errors.Is(err, want) {
			t.Errorf("%s: %v does not wrap %v", name, err, want)
		}
	}
	got, err = queryAll(ctx, s.db, "step", scanInt, `SELECT nope FROM nowhere`)
	check("bad query", got, err, nil)

	boom := errors.New("boom")
	got, err = queryAll(ctx, s.db, "step", func(r rowScanner) (int, error) {
		n, err := scanInt(r)
		if n == 2 {
			return 0, boom
		}
		return n, err
	}, count, 3, 3)
	check("scan error", got, err, boom)

	// Cancelled while reading: the error comes from rows.Err.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got, err = queryAll(cctx, s.db, "step", func(r rowScanner) (int, error) {
		cancel()
		return scanInt(r)
	}, count, 10_000_000, 10_000_000)
	check("cancelled", got, err, nil)
}

func TestQueryMap(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const squares = `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i, i * i FROM c WHERE i <= ?`
	scan := func(r rowScanner) (k, v int, err error) {
		err = r.Scan(&k, &v)
		return k, v, err
	}
	got, err := queryMap(t.Context(), s.db, "squares", scan, squares, 3, 3)
	if err != nil || len(got) != 3 || got[1] != 1 || got[2] != 4 || got[3] != 9 {
		t.Errorf("queryMap = %v, %v; want map[1:1 2:4 3:9]", got, err)
	}
	// No rows: an empty map, not nil, as the methods' `out := map[K]V{}` gave.
	got, err = queryMap(t.Context(), s.db, "squares", scan, squares, 3, 0)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("queryMap of no rows = %#v, %v; want an empty map", got, err)
	}
	got, err = queryMap(t.Context(), s.db, "squares", scan, `SELECT nope FROM nowhere`)
	if got != nil || err == nil || !strings.HasPrefix(err.Error(), "squares: ") {
		t.Errorf("queryMap of a bad query = %v, %v; want nil and \"squares: …\"", got, err)
	}
}
