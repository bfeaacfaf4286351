package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// t0 is a fixed clock; times are stored at millisecond precision.
var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T, home string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), home)
	if err != nil {
		t.Fatalf("Open(%s): %v", home, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return openStore(t, t.TempDir())
}

func sum(code []byte) string {
	h := sha256.Sum256(code)
	return hex.EncodeToString(h[:])
}

func pyConfig() function.Config {
	c := function.DefaultConfig()
	c.Runtime, c.Mode = function.Python, function.Handler
	return c
}

func deployReq(name string, code string, cfg function.Config, now time.Time) store.DeployRequest {
	return store.DeployRequest{
		Name: name, Provider: "local", Owner: "ada", Filename: name + ".py",
		Code: []byte(code), SHA256: sum([]byte(code)), Config: cfg, Now: now,
	}
}

func mustDeploy(t *testing.T, s *sqlite.Store, r store.DeployRequest) (store.Version, bool) {
	t.Helper()
	v, created, err := s.Deploy(context.Background(), r)
	if err != nil {
		t.Fatalf("Deploy(%s): %v", r.Name, err)
	}
	return v, created
}

func wantKind(t *testing.T, err error, k fault.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want kind %v", k)
	}
	if got := fault.KindOf(err); got != k {
		t.Fatalf("error %q has kind %v, want %v", err, got, k)
	}
}

func currentVersion(t *testing.T, s *sqlite.Store, name string) int {
	t.Helper()
	f, err := s.GetFunction(context.Background(), name)
	if err != nil {
		t.Fatalf("GetFunction(%s): %v", name, err)
	}
	return f.Current.Version
}

func TestOpenCreatesPrivateHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "nested", "faas-home")
	s := openStore(t, home)

	fi, err := os.Stat(home)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("home %s: mode %v, want a 0700 directory", home, fi.Mode())
	}
	dbPath := faashome.DB(home)
	if s.Path() != dbPath {
		t.Errorf("Path() = %q, want %q", s.Path(), dbPath)
	}
	fi, err = os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("db file mode %v, want 0600", fi.Mode().Perm())
	}

	// A write creates the WAL, which SQLite gives the database file's mode.
	mustDeploy(t, s, deployReq("hello", "def handler(e, c): pass", pyConfig(), t0))
	if fi, err := os.Stat(dbPath + "-wal"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("WAL file: %v, want mode 0600", describe(fi, err))
	}
}

func TestOpenUnwritableHomeIsPlatformError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(context.Background(), filepath.Join(file, "home"))
	if s != nil {
		s.Close()
	}
	wantKind(t, err, fault.Platform)
	if fault.HintOf(err) == "" {
		t.Errorf("error %q has no hint", err)
	}
}

func TestOpenTwiceMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()

	s1, err := sqlite.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, s1, deployReq("hello", "def handler(e, c): pass", pyConfig(), t0))

	// A second open while the first is still open, then after it closed.
	s2, err := sqlite.Open(ctx, home)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	if got := currentVersion(t, s2, "hello"); got != 1 {
		t.Errorf("second store sees version %d, want 1", got)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, home)
	names, err := s3.FunctionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{"hello"}) {
		t.Errorf("FunctionNames after reopen = %q, want [hello]", names)
	}

	// The schema version is the newest migration, not applied twice.
	want := sqlite.SchemaVersion()
	if want < 1 {
		t.Fatalf("SchemaVersion() = %d, want >= 1", want)
	}
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var have int
	if err := db.QueryRow("PRAGMA user_version").Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have != want {
		t.Errorf("user_version = %d, want %d", have, want)
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	s.Close()
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2, err := sqlite.Open(context.Background(), home)
	if s2 != nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	wantKind(t, err, fault.Platform)
	if fault.HintOf(err) != "upgrade faas" {
		t.Errorf("hint = %q, want %q", fault.HintOf(err), "upgrade faas")
	}
}

func runningJob(id, fn string, queued time.Time) store.Job {
	return store.Job{
		ID: id, Function: fn, Version: 1, Owner: "ada", Status: store.StatusRunning,
		Provider: "local", QueuedAt: queued, StartedAt: queued, MemoryMB: 256,
		RunnerPID: 4242, RunnerStart: 99,
	}
}

func intPtr(i int) *int { return &i }
func runWorkers(home string, workers, perWorker int) []error {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, err := sqlite.Open(ctx, home)
			if err != nil {
				fail(fmt.Errorf("worker %d: Open: %w", w, err))
				return
			}
			defer s.Close()
			for i := 0; i < perWorker; i++ {
				q := t0.Add(time.Duration(w*perWorker+i) * time.Millisecond)
				j := runningJob(fmt.Sprintf("w%d-j%02d", w, i), fmt.Sprintf("fn%d", w%3), q)
				j.RunnerPID = 1000 + w
				if err := s.StartJob(ctx, j); err != nil {
					fail(fmt.Errorf("worker %d job %d: StartJob: %w", w, i, err))
					continue
				}
				j.Status, j.ExitCode, j.EndedAt = store.StatusCompleted, intPtr(0), q.Add(time.Millisecond)
				j.Logs = []byte(fmt.Sprintf("log of %s", j.ID))
				if err := s.FinishJob(ctx, j, false); err != nil {
					fail(fmt.Errorf("worker %d job %d: FinishJob: %w", w, i, err))
				}
			}
		}(w)
	}
	wg.Wait()
	return errs
}

// TestConcurrentFirstOpen: several "processes" run their first faas
// command at once on a home that does not exist yet.
func TestConcurrentFirstOpen(t *testing.T) {
	const rounds, workers = 60, 8
	ctx := context.Background()
	for r := 0; r < rounds; r++ {
		home := filepath.Join(t.TempDir(), "home")
		errs := runWorkers(home, workers, 1)
		for _, err := range errs {
			t.Errorf("round %d: %v", r, err)
		}
		if len(errs) > 0 {
			return
		}
		s := openStore(t, home)
		counts, err := s.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.StatusCompleted] != workers {
			t.Fatalf("round %d: CountJobs = %v, want %d completed", r, counts, workers)
		}
		s.Close()
	}
}

func describe(fi os.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fi.Mode().Perm().String()
}

// TestCauseMigrationFillsOldRows takes a database back to the schema before
// jobs had a cause, with jobs as the old code wrote them (the cause only in
// the error's text), and opens it: each old job gets its cause.
func TestCauseMigrationFillsOldRows(t *testing.T) {
	home := t.TempDir()
	openStore(t, home).Close()
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home))
	if err != nil {
		t.Fatal(err)
	}
	old := map[string][2]string{ // id → status, error
		"ok": {"completed", ""}, "exc": {"failed", "ZeroDivisionError: division by zero"},
		"slow": {"timeout", "killed after 1s (the function's timeout)"}, "plat": {"failed", "platform: agent /invoke: refused"},
		"int": {"failed", "interrupted: the invocation was cancelled"}, "gone": {"lost", "the process running this job ended"},
		"queued": {"waiting", ""},
	}
	stmts := []string{"ALTER TABLE jobs DROP COLUMN cause", "DROP TABLE secrets", "ALTER TABLE versions DROP COLUMN tree", "ALTER TABLE versions DROP COLUMN deps", "ALTER TABLE versions DROP COLUMN build_log", "DROP INDEX jobs_trigger_recent", "ALTER TABLE jobs DROP COLUMN trigger", "DROP TABLE schedule_runs", "ALTER TABLE jobs DROP COLUMN callback_url", "ALTER TABLE jobs DROP COLUMN callback_status", "ALTER TABLE jobs DROP COLUMN callback_attempts", "ALTER TABLE jobs DROP COLUMN callback_error", "ALTER TABLE jobs DROP COLUMN destination_job", "ALTER TABLE jobs DROP COLUMN destination_error", "ALTER TABLE jobs DROP COLUMN runner_host", "DROP TABLE runners", "ALTER TABLE jobs DROP COLUMN host", "PRAGMA user_version = 7"}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	for id, se := range old {
		if _, err := db.Exec(`INSERT INTO jobs(id, function, version, owner, status, provider, instance, queued_at, memory_mb, error)
			VALUES (?, 'f', 1, '', ?, 'local', '', 1, 128, ?)`, id, se[0], se[1]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := openStore(t, home)
	want := map[string]faastype.Cause{"ok": "", "exc": "function", "slow": "function", "plat": "platform",
		"int": "interrupted", "gone": "lost", "queued": ""}
	for id, c := range want {
		j, err := s.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Cause != c {
			t.Errorf("job %s (%s, %q): cause %q, want %q", id, j.Status, j.Error, j.Cause, c)
		}
	}
}

// TestCauseIsRecorded: FinishJob stores the cause it is given, a retry
