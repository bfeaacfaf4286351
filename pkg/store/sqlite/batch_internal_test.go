package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strconv"
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

// Writers queued while another holds the lead commit as one batch, and a
// failing one in it is rolled back alone: the lead is held here until all
// of them wait, so the batch cannot be one writer at a time.
func TestGroupCommitBatchIsolation(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.lead <- struct{}{} // hold the lead
	const n = 10
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.inTx(ctx, "w", func(tx *sql.Tx) error {
				if i == 3 {
					_, _ = tx.Exec(`INSERT INTO config(key, value, updated_at) VALUES ('bad', 'x', 0)`)
					return errors.New("writer 3 fails after writing")
				}
				_, err := tx.Exec(`INSERT INTO config(key, value, updated_at) VALUES (?, 'v', 0)`, "k"+strconv.Itoa(i))
				return err
			})
		}()
	}
	for {
		s.qmu.Lock()
		queued := len(s.pending)
		s.qmu.Unlock()
		if queued == n {
			break
		}
		runtime.Gosched()
	}
	<-s.lead // let them go: one of them leads all ten
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
		}
	}
	c, err := s.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if failed != 1 || len(c) != n-1 || c["bad"] != "" {
		t.Fatalf("%d failed, config %v: want 1 failure and the other %d writes only", failed, c, n-1)
	}
}
