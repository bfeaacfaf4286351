package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// inTx runs fn in a write transaction (BEGIN IMMEDIATE) and returns once
// what it wrote is committed, or not written at all.
//
// Writers commit as a group: while one batch commits, the writers that
// arrive queue up, and the next of them runs them all in one transaction,
// each in its own savepoint (a failing one is rolled back alone). A commit
// costs the same for one job as for twenty, so under concurrent load this
// is most of the store's throughput; alone, a writer commits at once.
func (s *Store) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	r := &txReq{ctx: ctx, what: what, fn: fn, done: make(chan error, 1)}
	s.qmu.Lock()
	s.pending = append(s.pending, r)
	s.qmu.Unlock()
	for {
		// A leader answers its batch before it gives the lead back: a
		// writer already answered must return, not lead the next batch.
		select {
		case err := <-r.done:
			return r.result(err)
		default:
		}
		select {
		case err := <-r.done:
			return r.result(err)
		case s.lead <- struct{}{}:
			s.qmu.Lock()
			batch := s.pending
			if len(batch) > maxBatch {
				batch = batch[:maxBatch]
			}
			s.pending = s.pending[len(batch):]
			s.qmu.Unlock()
			s.lead1(batch)
		}
	}
}

// lead1 runs one batch as the leader and gives the lead back.
func (s *Store) lead1(batch []*txReq) {
	defer func() { <-s.lead }()
	if len(batch) > 0 {
		s.runBatch(batch)
	}
}

// maxBatch bounds a group commit.
const maxBatch = 64

// txReq is one writer waiting for its transaction.
type txReq struct {
	ctx  context.Context
	what string
	fn   func(*sql.Tx) error
	done chan error
	// panicked is what fn panicked with; the writer panics with it in its
	// own goroutine, not in the leader's.
	panicked any
}

// run runs the writer's work, turning a panic into its error.
func (r *txReq) run(tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fault.Platformf("%s: panic: %v", r.what, p)
		}
	}()
	return r.fn(tx)
}

// result is what inTx returns for the answer err: a panic is raised again.
func (r *txReq) result(err error) error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return err
}

func (s *Store) runBatch(batch []*txReq) {
	answered := make([]bool, len(batch))
	answer := func(i int, err error) {
		if answered[i] {
			return
		}
		answered[i] = true
		var fe *fault.Error
		if err != nil && !errors.As(err, &fe) && !errors.Is(err, store.ErrAtMax) {
			err = storeErr(batch[i].what, err)
		}
		batch[i].done <- err
	}
	var ok []int // run, awaiting the commit
	// abort answers everyone not yet answered: nothing of theirs is written.
	abort := func(err error) {
		for i := range batch {
			answer(i, err)
		}
	}
	tx, err := s.db.BeginTx(context.WithoutCancel(batch[0].ctx), nil)
	if err != nil {
		abort(err)
		return
	}
	defer tx.Rollback()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			answer(i, err)
			continue
		}
		if len(batch) == 1 {
			if err := r.run(tx); err != nil {
				answer(i, err)
				return
			}
			ok = append(ok, i)
			break
		}
		if _, err := tx.ExecContext(r.ctx, "SAVEPOINT w"); err != nil {
			answer(i, err)
			continue
		}
		if err := r.run(tx); err != nil {
			answer(i, err)
			_, rerr := tx.Exec("ROLLBACK TO w")
			if rerr == nil {
				_, rerr = tx.Exec("RELEASE w")
			}
			if rerr != nil {
				// The transaction is in an unknown state: write nothing.
				abort(rerr)
				return
			}
			continue
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			abort(err)
			return
		}
		ok = append(ok, i)
	}
	if len(ok) == 0 {
		return
	}
	err = tx.Commit()
	for _, i := range ok {
		answer(i, err)
	}
}
