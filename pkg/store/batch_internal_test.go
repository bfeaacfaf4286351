package store

import (
	"context"
	"database/sql"
	"testing"
)

// A writer that panics (net/http recovers a handler's panic) gives the lead
// back: the next writer commits.
func TestGroupCommitSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach its writer")
			}
		}()
		_ = s.inTx(ctx, "boom", func(*sql.Tx) error { panic("boom") })
	}()
	done := make(chan error, 1)
	go func() {
		done <- s.inTx(ctx, "after", func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO config(key, value, updated_at) VALUES ('k', 'v', 0)`)
			return err
		})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, err := s.Config(ctx); err != nil || c["k"] != "v" {
		t.Fatalf("config after: %v %v", c, err)
	}
}
