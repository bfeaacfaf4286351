// Package sqlite is the engine's Store in one SQLite database: functions and
// their versions, instances, and jobs. It knows SQL and nothing of how the
// rows are shown.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a writer waits for another before giving up. It
// is long because twenty concurrent invocations must all get through.
const busyTimeout = 30 * time.Second

// Store is an open database.
type Store struct {
	db   *sql.DB
	path string
	// Writers queue here (pending) and take turns to lead a group commit
	// (lead): SQLite takes one writer at a time, and a writer that finds
	// the lock taken would sleep in its busy handler (for milliseconds)
	// instead of queueing.
	qmu     sync.Mutex
	pending []*txReq
	lead    chan struct{}

	stop      chan struct{}
	closeOnce sync.Once
	stopped   sync.WaitGroup
	// versions caches the version GetFunction read last, per function
	// (name → cachedVersion).
	versions sync.Map
	// functions keeps GetFunction's reads (name → cachedFunction).
	functions sync.Map
}

// Open opens (creating if needed) the database in home, applying any
// migrations it lacks. The hot path pays one PRAGMA read when the schema is
// current.
func Open(ctx context.Context, home string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fault.WithHint(fault.Platformf("create FAAS_HOME %s: %w", home, err), "set FAAS_HOME to a writable directory")
	}
	path := faashome.DB(home)
	// Create the file ourselves so that it is 0600 from its first byte;
	// SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fault.Platformf("open database %s: %w", path, err)
	}
	f.Close()
	dsn := "file:" + path + "?_busy_timeout=" + strconv.Itoa(int(busyTimeout.Milliseconds())) +
		"&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=64"
	driver := "sqlite3"
	if o.checkpointEvery > 0 {
		driver = noAutoCheckpointDriver
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fault.Platformf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, lead: make(chan struct{}, 1), stop: make(chan struct{})}
	if err := s.useWAL(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if o.checkpointEvery > 0 {
		s.stopped.Add(1)
		go s.checkpoints(o.checkpointEvery)
	}
	return s, nil
}

// Option changes how a store is opened.
type Option func(*options)

type options struct{ checkpointEvery time.Duration }

// BackgroundCheckpoints is for a long-lived process with many writers (the
// server): its commits never checkpoint the WAL themselves, which costs a
// commit an fsync of the database every few hundred jobs (the p99 of a
// call); a goroutine checkpoints every d instead.
func BackgroundCheckpoints(d time.Duration) Option {
	return func(o *options) { o.checkpointEvery = d }
}

const noAutoCheckpointDriver = "sqlite3_faas_no_autocheckpoint"

func init() {
	sql.Register(noAutoCheckpointDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
		if err == nil {
			// A WAL that restarts from its beginning is cut back to this.
			_, err = c.Exec("PRAGMA journal_size_limit = "+strconv.FormatInt(WALLimit, 10), nil)
		}
		return err
	}})
}

func (s *Store) checkpoints(every time.Duration) {
	defer s.stopped.Done()
	// The WAL's size is looked at more often than it is checkpointed: at
	// 19 MB of WAL a second (the performance issue's 64 in flight), half a
	// second between looks let it pass its limit by 10 MB.
	look := min(every, walLook)
	t := time.NewTicker(look)
	defer t.Stop()
	var since time.Duration
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if since += look; since >= every {
				since = 0
				// PASSIVE: copies what no reader needs, never waits on writers.
				_, _ = s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
			s.boundWAL()
		}
	}
}

// walLook is how often a server's store looks at its WAL's size.
const walLook = 100 * time.Millisecond

// WALLimit is how large the WAL may grow before a checkpoint restarts it.
// Under steady load the WAL is never reset by PASSIVE checkpoints alone
// (some reader or writer always holds it), and grows without end: 460 MB
// in 20 s at 64 concurrent invokes before this limit.
var WALLimit int64 = 16 << 20

// boundWAL restarts a WAL grown past WALLimit: a RESTART checkpoint, run
// while this store holds the write lead, so that none of its own group
// commits is waiting behind it; it waits for readers (the busy timeout),
// which are short. The next commit writes the WAL from its beginning
// again, over blocks the file already has: a TRUNCATE (as before) made
// every commit after it grow the file, and the kernel allocate and zero
// its new blocks (13 % of the server's CPU at 16 in flight, perf).
func (s *Store) boundWAL() {
	fi, err := os.Stat(s.path + "-wal")
	if err != nil || fi.Size() <= WALLimit {
		return
	}
	s.lead <- struct{}{}
	defer func() { <-s.lead }()
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(RESTART)")
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	s.stopped.Wait()
	return s.db.Close()
}

// useWAL puts the database in WAL mode, which is then a property of the
// file. Switching needs an exclusive lock, for which SQLite does not wait on
// its busy handler, so concurrent first opens of a new database retry here
// until the busy timeout.
func (s *Store) useWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		if err == nil && strings.EqualFold(mode, "wal") {
			return nil
		}
		if err == nil {
			err = s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
			if err == nil && strings.EqualFold(mode, "wal") {
				return nil
			}
		}
		if err != nil && !isBusy(err) || time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("journal mode is %q", mode)
			}
			return storeErr("switch to WAL", err)
		}
		select {
		case <-ctx.Done():
			return storeErr("switch to WAL", ctx.Err())
		case <-time.After(delay):
		}
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

func migrations() ([]store.Migration, error) { return store.Migrations(migrationFS, "migrations") }

// SchemaVersion is the newest migration this binary knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fault.Platformf("read migrations: %w", err)
	}
	want := ms[len(ms)-1].Version
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return storeErr("read schema version", err)
	}
	if have == want {
		return nil
	}
	if have > want {
		return fault.WithHint(fault.Platformf("database %s has schema version %d, newer than this faas knows (%d)", s.path, have, want), "upgrade faas")
	}
	// BEGIN IMMEDIATE (the DSN's txlock) serialises concurrent first opens;
	// the version is read again inside the lock.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeErr("migrate", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return storeErr("read schema version", err)
	}
	for _, m := range ms {
		if m.Version <= have {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return storeErr("migration "+m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
			return storeErr("migration "+m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return storeErr("migrate", err)
	}
	return nil
}

func toMS(t time.Time) int64 { return t.UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMS(n.Int64)
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMS(t), Valid: true}
}

// Hold keeps one idle connection to the database in home open until the
// returned closer is closed. SQLite checkpoints and deletes the WAL when the
// last connection closes, which would make every short faas command pay two
// fsyncs and a WAL re-creation; a long-lived process (a local agent) holding
// a connection spares them that. An idle connection holds no snapshot, so it
// never blocks checkpoints or writers.
func Hold(home string) (io.Closer, error) {
	path := faashome.DB(home)
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw&_busy_timeout=1000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
