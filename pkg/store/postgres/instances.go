package postgres

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// ClaimJob records a running job and places it on an instance, in one
// transaction: a ready instance with a free slot (fewest jobs first), else
// a new instance while the function has fewer than MaxInstances, else the
// least busy instance, whose agent queues the job.
func (s *Store) ClaimJob(ctx context.Context, j store.Job, pl store.Placement) (store.Placed, error) {
	var placed store.Placed
	err := s.inTx(ctx, "claim job", func(tx pgx.Tx) error {
		var err error
		if placed, err = place(ctx, tx, j.Function, pl, j.QueuedAt); err != nil {
			return err
		}
		j.Instance = placed.Instance.ID
		return insertJob(ctx, tx, j)
	})
	return placed, err
}

// PlaceAgain places a running job (again): after its instance turned out
// to be gone, or, claimed from the queue, on the version pl describes.
func (s *Store) PlaceAgain(ctx context.Context, jobID, fn string, pl store.Placement, now time.Time) (store.Placed, error) {
	var placed store.Placed
	err := s.inTx(ctx, "place job", func(tx pgx.Tx) error {
		var err error
		if placed, err = place(ctx, tx, fn, pl, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE jobs SET instance = $1, version = $2, provider = $3, memory_mb = $4 WHERE id = $5`,
			placed.Instance.ID, pl.Version, pl.Provider, pl.MemoryMB, jobID)
		return err
	})
	return placed, err
}

// lockInstances makes the transaction the only one placing on fn's
// instances until it ends: a count of free slots, or of instances against
// max_instances, holds until the job or instance it decides on is written.
func lockInstances(ctx context.Context, tx pgx.Tx, fn string, pl store.Placement) error {
	return lockKey(ctx, tx, "instances:"+pl.Provider+"/"+fn)
}

func place(ctx context.Context, tx pgx.Tx, fn string, pl store.Placement, now time.Time) (store.Placed, error) {
	if err := lockInstances(ctx, tx, fn, pl); err != nil {
		return store.Placed{}, err
	}
	type cand struct {
		in        faastype.Instance
		seq, busy int
	}
	var cands []cand
	n := 0 // instances, counting those draining (for a resize) against max_instances
	err := queryEach(ctx, tx, "place job", func(rows pgx.Rows) error {
		var c cand
		if err := rows.Scan(&c.in.ID, &c.in.State, &c.in.Endpoint, &c.in.Token, &c.in.PID, &c.in.PIDStart, &c.seq, &c.busy); err != nil {
			return err
		}
		n++
		if c.in.State == store.InstanceDraining {
			return nil
		}
		c.in.Function, c.in.Provider = fn, pl.Provider
		cands = append(cands, c)
		return nil
	}, `SELECT i.id, i.state, i.endpoint, i.token, COALESCE(i.pid, 0), i.pid_start, i.seq,
		(SELECT COUNT(*) FROM jobs j WHERE j.instance = i.id AND j.status = 'running') AS busy
		FROM instances i WHERE i.function = $1 AND i.provider = $2 AND i.state IN ('starting', 'ready', 'draining')`, fn, pl.Provider)
	if err != nil {
		return store.Placed{}, err
	}
	// Fewest jobs first, ready before starting, oldest first.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.busy != b.busy {
			return a.busy < b.busy
		}
		if as, bs := a.in.State == store.InstanceStarting, b.in.State == store.InstanceStarting; as != bs {
			return !as
		}
		return a.seq < b.seq
	})
	var least, chosen *faastype.Instance
	if len(cands) > 0 {
		least = &cands[0].in
		if cands[0].busy < pl.Slots {
			chosen = &cands[0].in
		}
	}
	if chosen != nil {
		return store.Placed{Instance: *chosen}, nil
	}
	if n >= pl.MaxInstances && least != nil {
		return store.Placed{Instance: *least}, nil
	}
	in, err := insertInstance(ctx, tx, fn, pl, now)
	if err != nil {
		return store.Placed{}, err
	}
	return store.Placed{Instance: in, Launch: true}, nil
}

// insertInstance records a new starting instance of fn, numbered after the
// function's last.
func insertInstance(ctx context.Context, tx pgx.Tx, fn string, pl store.Placement, now time.Time) (faastype.Instance, error) {
	var seq int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM instances WHERE function = $1 AND provider = $2`, fn, pl.Provider).Scan(&seq); err != nil {
		return faastype.Instance{}, err
	}
	in := faastype.Instance{ID: pl.Provider + "-" + fn + "-" + strconv.Itoa(seq), Function: fn, Provider: pl.Provider, State: store.InstanceStarting}
	// A row left by an instance that vanished may hold the id; it is replaced.
	if _, err := tx.Exec(ctx, `DELETE FROM instances WHERE id = $1`, in.ID); err != nil {
		return faastype.Instance{}, err
	}
	_, err := tx.Exec(ctx, `INSERT INTO instances(id, function, version, provider, state, slots, cpus, memory_mb, disk_mb, seq, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'starting', $5, $6, $7, $8, $9, $10, $10)`,
		in.ID, fn, pl.Version, pl.Provider, pl.Slots, pl.CPUs, pl.MemoryMB, pl.DiskMB, seq, ms(now))
	return in, err
}

// InstanceUp records a launched instance as ready.
func (s *Store) InstanceUp(ctx context.Context, in faastype.Instance, now time.Time) error {
	return s.inTx(ctx, "record instance", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instances SET state = 'ready', endpoint = $1, token = $2, pid = $3, pid_start = $4, updated_at = $5 WHERE id = $6`,
			in.Endpoint, in.Token, in.PID, in.PIDStart, ms(now), in.ID)
		if err == nil && in.MemoryMB > 0 {
			_, err = tx.Exec(ctx, `UPDATE instances SET memory_mb = $1 WHERE id = $2`, in.MemoryMB, in.ID)
		}
		return err
	})
}

// RemoveInstance forgets an instance.
func (s *Store) RemoveInstance(ctx context.Context, id string) error {
	return s.inTx(ctx, "remove instance", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM instances WHERE id = $1`, id)
		return err
	})
}

// ListInstances returns the recorded instances, of one function or all.
func (s *Store) ListInstances(ctx context.Context, fn string) ([]store.InstanceRow, error) {
	return queryAll(ctx, s.pool, "list instances", func(row pgx.Rows) (r store.InstanceRow, err error) {
		err = row.Scan(&r.ID, &r.Function, &r.Provider, &r.State, &r.Endpoint, &r.Token, &r.PID, &r.PIDStart,
			&r.Version, &r.Slots, &r.CPUs, &r.MemoryMB, &r.DiskMB, &r.CreatedAt, &r.UpdatedAt, &r.InFlight)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		return r, err
	}, `SELECT i.id, i.function, i.provider, i.state, i.endpoint, i.token, COALESCE(i.pid, 0), i.pid_start,
		i.version, i.slots, i.cpus, i.memory_mb, i.disk_mb, i.created_at, i.updated_at,
		(SELECT COUNT(*) FROM jobs j WHERE j.instance = i.id AND j.status = 'running')
		FROM instances i WHERE $1 = '' OR i.function = $1 ORDER BY i.function, i.seq`, fn)
}
