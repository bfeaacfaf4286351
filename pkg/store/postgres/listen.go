package postgres

import (
	"context"
	"time"
)

// ListenQueue calls wake whenever a job joins the queue (NOTIFY
// faas_queue, sent by the transaction that queued it), on a connection of
// its own, until ctx ends. A lost connection is made again after a second;
// wake is called then too, since notifications sent meanwhile are lost.
func (s *Store) ListenQueue(ctx context.Context, wake func()) {
	for ctx.Err() == nil {
		s.listen(ctx, wake)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, wake func()) {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	// The connection has LISTEN on it: it does not go back to the pool.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+queueChannel); err != nil {
		return
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		wake()
	}
}
