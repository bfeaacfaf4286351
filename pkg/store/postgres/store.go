// Package postgres is the engine's Store in a PostgreSQL database that
// several faas processes (and hosts) share: the same records and the same
// behaviour as pkg/store/sqlite, held to the same conformance suite
// (pkg/engine/storetest). Money is bigint pico-dollars; times are
// timestamptz, kept at millisecond precision as SQLite keeps them.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Store is an open pool of connections to one database.
type Store struct {
	pool *pgxpool.Pool
	// where names the database for messages: host, port and name, never
	// the password.
	where string
	// versions caches the version GetFunction read last, per function
	// (name → cachedVersion).
	versions sync.Map
}

// IsURL reports whether s selects PostgreSQL: a postgres:// or
// postgresql:// URL, or a libpq keyword string (host=… dbname=…).
func IsURL(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") ||
		(strings.Contains(s, "=") && !strings.Contains(s, "://"))
}

// Open connects to the database of url (a libpq URL or keyword string;
// PG* environment variables and ~/.pgpass fill in what it leaves out) and
// applies any migrations it lacks.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenNoMigrate connects without migrating (`faas db status`): a database
// behind this binary's schema is reported, not changed; one ahead of it is
// still refused.
func OpenNoMigrate(ctx context.Context, url string) (*Store, error) {
	s, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := s.SchemaVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func connect(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors hide the password.
		return nil, fault.WithHint(fault.Usagef("FAAS_DATABASE_URL is not a PostgreSQL connection string: %v", err),
			"use postgres://USER@HOST:PORT/DATABASE, or host=HOST dbname=DATABASE")
	}
	cc := cfg.ConnConfig
	where := cc.Database
	if h := hostPort(cc.Host, cc.Port); h != "" {
		where = h + "/" + cc.Database
	}
	cfg.MaxConns = 16
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, connectErr(where, cc.User, cc.Database, err)
	}
	// Connect now, to report a server that cannot be reached as such; the
	// connection is the next query's (a Ping would cost a round trip).
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, connectErr(where, cc.User, cc.Database, err)
	}
	conn.Release()
	return &Store{pool: pool, where: where}, nil
}

// hostPort is how a message names the server: host:port, or the socket
// directory and port.
func hostPort(host string, port uint16) string {
	if host == "" {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// connectErr explains a failed connection: a missing database or role says
// how to create it; anything else is a server that cannot be reached.
func connectErr(where, user, db string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000": // invalid_catalog_name
			return fault.WithHint(fault.Platformf("database %s does not exist", where),
				fmt.Sprintf("create it: createdb %s (or CREATE DATABASE %s OWNER %s;)", db, pgx.Identifier{db}.Sanitize(), pgx.Identifier{user}.Sanitize()))
		case "28000": // invalid_authorization_specification: no such role
			return fault.WithHint(fault.Platformf("PostgreSQL at %s refused role %q: %s", where, user, pe.Message),
				fmt.Sprintf("create it: createuser %s (or CREATE ROLE %s LOGIN;)", user, pgx.Identifier{user}.Sanitize()))
		case "28P01": // invalid_password
			return fault.WithHint(fault.Platformf("PostgreSQL at %s refused the password of role %q", where, user),
				"check the password in FAAS_DATABASE_URL, PGPASSWORD or ~/.pgpass")
		}
		return fault.Platformf("connect to PostgreSQL at %s: %s (SQLSTATE %s)", where, pe.Message, pe.Code)
	}
	// The dial's own error where there is one: pgx's wrapping repeats the
	// user and database, and each attempt (with TLS, without) on a line.
	cause := err.Error()
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &oe):
		cause = oe.Error()
	case errors.As(err, &de):
		cause = de.Error()
	default:
		lines := strings.Split(strings.TrimSpace(cause), "\n")
		cause = strings.TrimSpace(lines[len(lines)-1])
	}
	return fault.WithHint(fault.Platformf("cannot reach PostgreSQL at %s: %s", where, cause),
		"is the server running and FAAS_DATABASE_URL right? try pg_isready")
}

// Where names the database: host:port/name (never the password).
func (s *Store) Where() string { return s.where }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// storeErr wraps a database error as a platform error, naming the step.
func storeErr(what string, err error) error {
	return fault.Platformf("%s: %w", what, err)
}

// isConnLost says err is the connection's, not the statement's: the
// transaction it ran in was rolled back with the connection, so running it
// again on another connection writes it once.
func isConnLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// admin_shutdown, crash_shutdown, cannot_connect_now
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "unexpected EOF") ||
		strings.Contains(err.Error(), "conn closed")
}

// isUnique says err is a unique violation of the named constraint.
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// errCommit marks an error of COMMIT itself: whether the transaction
// landed is unknown, so it is not run again.
type errCommit struct{ error }

func (e errCommit) Unwrap() error { return e.error }

// inTx runs fn in one transaction. A connection lost before COMMIT is
// retried once on a fresh connection (nothing of the first try was
// written); any other error is returned as fn gave it, a fault as is, and
// a database error as a platform error naming what.
func (s *Store) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	err := s.tx1(ctx, fn)
	if err != nil && isConnLost(err) && ctx.Err() == nil && !errors.As(err, new(errCommit)) {
		err = s.tx1(ctx, fn)
	}
	var fe *fault.Error
	if err != nil && !errors.As(err, &fe) && !errors.Is(err, store.ErrAtMax) {
		return storeErr(what, err)
	}
	return err
}

func (s *Store) tx1(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return errCommit{err}
	}
	return nil
}

// lockKey serialises the transactions that read and then write one
// function's records (deploys, placements), as SQLite's single writer
// does: a transaction-scoped advisory lock on the key.
func lockKey(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return err
}

// ms truncates a time to the millisecond, the precision both stores keep.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// nullTime is a time to write, NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = ms(t)
	return &t
}

// utc is a time read back, in UTC as SQLite's are; NULL is the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
