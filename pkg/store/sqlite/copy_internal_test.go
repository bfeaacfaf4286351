package sqlite

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/store"
)

// TestCopyTablesCoverSchema fails when a migration adds a table or column
// that `faas db copy` would leave behind.
func TestCopyTablesCoverSchema(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	copied := map[string]store.Table{}
	for _, tb := range store.CopyTables {
		copied[tb.Name] = tb
	}
	rs, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('instances', 'runners', 'schema_migrations')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rs.Close()
	if len(tables) < 10 {
		t.Fatalf("found only tables %v", tables)
	}
	for _, name := range tables {
		tb, ok := copied[name]
		if !ok {
			t.Errorf("table %s is not in store.CopyTables", name)
			continue
		}
		var have []string
		cr, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, name)
		if err != nil {
			t.Fatal(err)
		}
		for cr.Next() {
			var c string
			if err := cr.Scan(&c); err != nil {
				t.Fatal(err)
			}
			have = append(have, c)
		}
		cr.Close()
		var want []string
		for _, c := range tb.Columns {
			want = append(want, c.Name)
		}
		sort.Strings(have)
		sort.Strings(want)
		if strings.Join(have, ",") != strings.Join(want, ",") {
			t.Errorf("table %s: columns %v, store.CopyTables has %v", name, have, want)
		}
	}
}
