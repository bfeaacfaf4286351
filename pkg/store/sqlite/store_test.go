package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
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

func TestDeployVersions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	cfg := pyConfig()
	codeA := "def handler(e, c):\n    return 1\n"
	codeB := "def handler(e, c):\n    return 2\n"

	// First deploy: v1.
	v, created := mustDeploy(t, s, deployReq("hello", codeA, cfg, t0))
	if !created || v.Version != 1 {
		t.Fatalf("first deploy = v%d created=%v, want v1 created=true", v.Version, created)
	}
	f, err := s.GetFunction(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "hello" || f.Provider != "local" || f.Owner != "ada" || f.Versions != 1 ||
		f.Current.Version != 1 || string(f.Current.Code) != codeA || f.Current.SHA256 != sum([]byte(codeA)) ||
		f.Current.Filename != "hello.py" || !f.CreatedAt.Equal(t0) || !f.UpdatedAt.Equal(t0) || !f.Current.CreatedAt.Equal(t0) {
		t.Errorf("GetFunction after v1 = %+v", f)
	}
	if !reflect.DeepEqual(f.Current.Config, cfg) {
		t.Errorf("stored config = %+v, want %+v", f.Current.Config, cfg)
	}

	// Same code and config: no-op, the existing v1 is returned.
	v, created = mustDeploy(t, s, deployReq("hello", codeA, pyConfig(), t0.Add(time.Minute)))
	if created || v.Version != 1 || string(v.Code) != codeA || !v.CreatedAt.Equal(t0) {
		t.Errorf("repeat deploy = v%d created=%v created_at=%v, want v1 created=false created_at=%v", v.Version, created, v.CreatedAt, t0)
	}
	vs, err := s.ListVersions(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("after no-op deploy: %d versions, want 1", len(vs))
	}
	if f, _ := s.GetFunction(ctx, "hello"); !f.UpdatedAt.Equal(t0) {
		t.Errorf("no-op deploy changed updated_at to %v", f.UpdatedAt)
	}

	// Different code: v2.
	t2 := t0.Add(2 * time.Minute)
	v, created = mustDeploy(t, s, deployReq("hello", codeB, cfg, t2))
	if !created || v.Version != 2 {
		t.Fatalf("new code deploy = v%d created=%v, want v2 created=true", v.Version, created)
	}
	f, _ = s.GetFunction(ctx, "hello")
	if f.Current.Version != 2 || f.Versions != 2 || string(f.Current.Code) != codeB || !f.UpdatedAt.Equal(t2) || !f.CreatedAt.Equal(t0) {
		t.Errorf("after v2: current=%d versions=%d code=%q updated=%v created=%v", f.Current.Version, f.Versions, f.Current.Code, f.UpdatedAt, f.CreatedAt)
	}

	// Same code, changed config: v3.
	cfg3 := pyConfig()
	cfg3.MemoryMB = 512
	v, created = mustDeploy(t, s, deployReq("hello", codeB, cfg3, t0.Add(3*time.Minute)))
	if !created || v.Version != 3 {
		t.Fatalf("config change deploy = v%d created=%v, want v3 created=true", v.Version, created)
	}
	f, _ = s.GetFunction(ctx, "hello")
	if f.Current.Version != 3 || f.Current.Config.MemoryMB != 512 {
		t.Errorf("after v3: current=%d memory=%d, want 3 and 512", f.Current.Version, f.Current.Config.MemoryMB)
	}

	// Same code, changed env only: v4.
	cfg4 := cfg3
	cfg4.Env = map[string]string{"GREETING": "hi"}
	v, created = mustDeploy(t, s, deployReq("hello", codeB, cfg4, t0.Add(4*time.Minute)))
	if !created || v.Version != 4 {
		t.Fatalf("env change deploy = v%d created=%v, want v4 created=true", v.Version, created)
	}

	// Versions are listed newest first, without code.
	vs, err = s.ListVersions(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, v := range vs {
		nums = append(nums, v.Version)
		if v.Code != nil {
			t.Errorf("ListVersions v%d has code %q, want nil", v.Version, v.Code)
		}
	}
	if !reflect.DeepEqual(nums, []int{4, 3, 2, 1}) {
		t.Errorf("ListVersions order = %v, want [4 3 2 1]", nums)
	}
	if vs[0].Config.Env["GREETING"] != "hi" || vs[3].SHA256 != sum([]byte(codeA)) {
		t.Errorf("ListVersions content wrong: %+v", vs)
	}

	// Another function is independent.
	v, created = mustDeploy(t, s, deployReq("other", codeA, cfg, t0))
	if !created || v.Version != 1 {
		t.Errorf("other function = v%d created=%v, want v1 created=true", v.Version, created)
	}
	fs, err := s.ListFunctions(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Name != "hello" || fs[0].Versions != 4 || fs[0].Current.Version != 4 ||
		fs[1].Name != "other" || fs[1].Versions != 1 || fs[0].Current.Code != nil {
		t.Errorf("ListFunctions = %+v", fs)
	}
}

func TestRollback(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i := 1; i <= 3; i++ {
		mustDeploy(t, s, deployReq("fn", fmt.Sprintf("print(%d)", i), pyConfig(), t0.Add(time.Duration(i)*time.Minute)))
	}

	steps := []struct {
		name       string
		to         int
		wantFrom   int
		wantTarget int
		wantKind   *fault.Kind // nil: success
		wantCur    int
	}{
		{name: "previous from 3", to: 0, wantFrom: 3, wantTarget: 2, wantCur: 2},
		{name: "previous from 2", to: 0, wantFrom: 2, wantTarget: 1, wantCur: 1},
		{name: "no version before 1", to: 0, wantKind: kindPtr(fault.NotFound), wantCur: 1},
		{name: "forward to 3", to: 3, wantFrom: 1, wantTarget: 3, wantCur: 3},
		{name: "missing version", to: 9, wantKind: kindPtr(fault.NotFound), wantCur: 3},
		{name: "negative version", to: -1, wantKind: kindPtr(fault.NotFound), wantCur: 3},
		{name: "to the current one", to: 3, wantFrom: 3, wantTarget: 3, wantCur: 3},
		{name: "explicit 1", to: 1, wantFrom: 3, wantTarget: 1, wantCur: 1},
	}
	now := t0.Add(time.Hour)
	for _, st := range steps {
		now = now.Add(time.Minute)
		from, target, err := s.Rollback(ctx, "fn", st.to, now)
		if st.wantKind != nil {
			if err == nil {
				t.Fatalf("%s: Rollback(to=%d) = %d, %d, nil; want an error", st.name, st.to, from, target)
			}
			wantKind(t, err, *st.wantKind)
		} else {
			if err != nil {
				t.Fatalf("%s: Rollback(to=%d): %v", st.name, st.to, err)
			}
			if from != st.wantFrom || target != st.wantTarget {
				t.Errorf("%s: Rollback(to=%d) = from %d target %d, want from %d target %d", st.name, st.to, from, target, st.wantFrom, st.wantTarget)
			}
			if f, _ := s.GetFunction(ctx, "fn"); !f.UpdatedAt.Equal(now) {
				t.Errorf("%s: updated_at = %v, want %v", st.name, f.UpdatedAt, now)
			}
		}
		if cur := currentVersion(t, s, "fn"); cur != st.wantCur {
			t.Errorf("%s: current version = %d, want %d", st.name, cur, st.wantCur)
		}
	}

	// Rollback never deletes versions.
	if f, _ := s.GetFunction(ctx, "fn"); f.Versions != 3 || string(f.Current.Code) != "print(1)" {
		t.Errorf("after rollbacks: versions=%d code=%q, want 3 and print(1)", f.Versions, f.Current.Code)
	}
	// Deploying the current (rolled back) code is a no-op; new code gets
	// the next number after the highest, not after the current.
	if v, created := mustDeploy(t, s, deployReq("fn", "print(1)", pyConfig(), now)); created || v.Version != 1 {
		t.Errorf("deploy of current code after rollback = v%d created=%v, want v1 created=false", v.Version, created)
	}
	if v, created := mustDeploy(t, s, deployReq("fn", "print(4)", pyConfig(), now)); !created || v.Version != 4 {
		t.Errorf("deploy of new code after rollback = v%d created=%v, want v4 created=true", v.Version, created)
	}

	_, _, err := s.Rollback(ctx, "nope", 0, now)
	wantKind(t, err, fault.NotFound)
}

func TestRollbackSingleVersion(t *testing.T) {
	s := newStore(t)
	mustDeploy(t, s, deployReq("one", "print(1)", pyConfig(), t0))
	_, _, err := s.Rollback(context.Background(), "one", 0, t0)
	wantKind(t, err, fault.NotFound)
	if cur := currentVersion(t, s, "one"); cur != 1 {
		t.Errorf("current = %d, want 1", cur)
	}
}

func kindPtr(k fault.Kind) *fault.Kind { return &k }

func TestDeleteFunctionKeepsJobs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mustDeploy(t, s, deployReq("gone", "print(1)", pyConfig(), t0))
	mustDeploy(t, s, deployReq("gone", "print(2)", pyConfig(), t0))
	mustDeploy(t, s, deployReq("kept", "print(1)", pyConfig(), t0))
	j := runningJob("job-1", "gone", t0)
	if err := s.StartJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	j.Status = store.StatusCompleted
	if err := s.FinishJob(ctx, j, false); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteFunction(ctx, "gone"); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	_, err := s.GetFunction(ctx, "gone")
	wantKind(t, err, fault.NotFound)
	vs, err := s.ListVersions(ctx, "gone")
	if err != nil || len(vs) != 0 {
		t.Errorf("ListVersions after delete = %d versions, %v; want 0, nil", len(vs), err)
	}
	names, _ := s.FunctionNames(ctx)
	if !reflect.DeepEqual(names, []string{"kept"}) {
		t.Errorf("FunctionNames = %q, want [kept]", names)
	}
	if cur := currentVersion(t, s, "kept"); cur != 1 {
		t.Errorf("other function's current = %d, want 1", cur)
	}

	// The job outlives the function.
	got, err := s.GetJob(ctx, "job-1")
	if err != nil {
		t.Fatalf("GetJob after delete: %v", err)
	}
	if got.Function != "gone" || got.Status != store.StatusCompleted {
		t.Errorf("job after delete = %s %s, want gone completed", got.Function, got.Status)
	}
	jobs, err := s.ListJobs(ctx, store.JobFilter{Function: "gone"})
	if err != nil || len(jobs) != 1 {
		t.Errorf("ListJobs(gone) = %d jobs, %v; want 1", len(jobs), err)
	}

	// Deleting again is NotFound; redeploying starts at v1 (versions went
	// with the function).
	wantKind(t, s.DeleteFunction(ctx, "gone"), fault.NotFound)
	if v, created := mustDeploy(t, s, deployReq("gone", "print(2)", pyConfig(), t0)); !created || v.Version != 1 {
		t.Errorf("redeploy after delete = v%d created=%v, want v1 created=true", v.Version, created)
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

// equalJob compares every field of two jobs, times by instant.
func equalJob(t *testing.T, got, want store.Job) {
	t.Helper()
	timesOK := got.QueuedAt.Equal(want.QueuedAt) && got.StartedAt.Equal(want.StartedAt) && got.EndedAt.Equal(want.EndedAt)
	if !timesOK {
		t.Errorf("times: queued %v started %v ended %v; want %v %v %v",
			got.QueuedAt, got.StartedAt, got.EndedAt, want.QueuedAt, want.StartedAt, want.EndedAt)
	}
	switch {
	case got.ExitCode == nil && want.ExitCode != nil:
		t.Errorf("ExitCode = nil, want %d", *want.ExitCode)
	case got.ExitCode != nil && want.ExitCode == nil:
		t.Errorf("ExitCode = %d, want nil", *got.ExitCode)
	case got.ExitCode != nil && *got.ExitCode != *want.ExitCode:
		t.Errorf("ExitCode = %d, want %d", *got.ExitCode, *want.ExitCode)
	}
	for _, b := range []struct {
		name      string
		got, want []byte
	}{{"Payload", got.Payload, want.Payload}, {"Result", got.Result, want.Result}, {"Logs", got.Logs, want.Logs}} {
		if !bytes.Equal(b.got, b.want) {
			t.Errorf("%s = %q, want %q", b.name, b.got, b.want)
		}
	}
	g, w := got, want
	g.QueuedAt, g.StartedAt, g.EndedAt, g.ExitCode, g.Payload, g.Result, g.Logs = time.Time{}, time.Time{}, time.Time{}, nil, nil, nil, nil
	w.QueuedAt, w.StartedAt, w.EndedAt, w.ExitCode, w.Payload, w.Result, w.Logs = time.Time{}, time.Time{}, time.Time{}, nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("job fields:\n got %+v\nwant %+v", g, w)
	}
}

func TestStartFinishJobRoundTrip(t *testing.T) {
	binLogs := []byte("line one\n\xff\xfe invalid \xc3\x28 utf-8 \x00 nul\n\x80")
	tests := []struct {
		name   string
		finish func(*store.Job)
	}{
		{name: "completed with exit 0", finish: func(j *store.Job) {
			j.Status, j.ExitCode, j.Result, j.Logs = store.StatusCompleted, intPtr(0), []byte(`{"ok":true}`), []byte("hello\n")
		}},
		{name: "failed with exit 3 and error", finish: func(j *store.Job) {
			j.Status, j.ExitCode, j.Error = store.StatusFailed, intPtr(3), "exit status 3"
		}},
		{name: "timeout with nil exit code", finish: func(j *store.Job) {
			j.Status, j.ExitCode, j.Error = store.StatusTimeout, nil, "killed after 30 s"
		}},
		{name: "negative exit code", finish: func(j *store.Job) {
			j.Status, j.ExitCode = store.StatusFailed, intPtr(-9)
		}},
		{name: "binary logs and result preserved", finish: func(j *store.Job) {
			j.Status, j.ExitCode = store.StatusCompleted, intPtr(0)
			j.Result = []byte{0x00, 0xff, 0x01, 0xfe}
			j.Logs = binLogs
			j.LogsTruncated = true
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			queued := t0.Add(time.Duration(i) * time.Second)
			start := store.Job{
				ID: fmt.Sprintf("job-%d", i), Function: "fn", Version: 7, Owner: "ada", Status: store.StatusRunning,
				Provider: "local", Instance: "local-fn-1", Cold: true, QueuedAt: queued,
				StartedAt: queued.Add(5 * time.Millisecond), MemoryMB: 512,
				Payload: []byte("{\"name\":\"Ada\"}\xff"), RunnerPID: 31337, RunnerStart: 123456789,
			}
			if err := s.StartJob(ctx, start); err != nil {
				t.Fatalf("StartJob: %v", err)
			}
			got, err := s.GetJob(ctx, start.ID)
			if err != nil {
				t.Fatalf("GetJob after start: %v", err)
			}
			equalJob(t, got, start)
			if got.Ended() {
				t.Error("running job reports Ended() = true")
			}

			end := start
			end.Instance = "local-fn-2"
			end.Cold = false
			end.InitMS = 120
			end.StartedAt = queued.Add(7 * time.Millisecond)
			end.EndedAt = queued.Add(1507 * time.Millisecond)
			end.Duration = 1500*time.Millisecond + 250*time.Microsecond
			end.BilledMS = 1501
			end.PeakMemoryBytes = 48 << 20
			tt.finish(&end)
			if err := s.FinishJob(ctx, end, false); err != nil {
				t.Fatalf("FinishJob: %v", err)
			}
			got, err = s.GetJob(ctx, end.ID)
			if err != nil {
				t.Fatalf("GetJob after finish: %v", err)
			}
			equalJob(t, got, end)
			if !got.Ended() {
				t.Errorf("job with status %s reports Ended() = false", got.Status)
			}

			// ListJobs has everything but payload, result and logs.
			list, err := s.ListJobs(ctx, store.JobFilter{})
			if err != nil || len(list) != 1 {
				t.Fatalf("ListJobs = %d jobs, %v; want 1", len(list), err)
			}
			want := end
			want.Payload, want.Result, want.Logs = nil, nil, nil
			equalJob(t, list[0], want)
		})
	}
}

func TestFinishJobNotRunning(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	// Unknown job.
	err := s.FinishJob(ctx, store.Job{ID: "nope", Status: store.StatusCompleted}, false)
	wantKind(t, err, fault.Platform)

	// Already finished: the second outcome does not overwrite the first.
	j := runningJob("done", "fn", t0)
	if err := s.StartJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	j.Status, j.ExitCode = store.StatusCompleted, intPtr(0)
	if err := s.FinishJob(ctx, j, false); err != nil {
		t.Fatal(err)
	}
	j2 := j
	j2.Status, j2.ExitCode, j2.Error = store.StatusFailed, intPtr(1), "late"
	if err := s.FinishJob(ctx, j2, false); err == nil {
		t.Error("second FinishJob succeeded, want an error")
	}
	if got, _ := s.GetJob(ctx, "done"); got.Status != store.StatusCompleted || got.Error != "" || got.ExitCode == nil || *got.ExitCode != 0 {
		t.Errorf("finished job overwritten: status=%s error=%q", got.Status, got.Error)
	}

	// Marked lost by a reconciler: the late result is refused.
	l := runningJob("lost", "fn", t0)
	if err := s.StartJob(ctx, l); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.MarkLost(ctx, t0.Add(time.Minute), func(int, int64) bool { return false }); err != nil || !reflect.DeepEqual(ids, []string{"lost"}) {
		t.Fatalf("MarkLost = %q, %v; want [lost], nil", ids, err)
	}
	l.Status = store.StatusCompleted
	if err := s.FinishJob(ctx, l, false); err == nil {
		t.Error("FinishJob of a lost job succeeded, want an error")
	}
	if got, _ := s.GetJob(ctx, "lost"); got.Status != store.StatusLost {
		t.Errorf("lost job status = %s, want lost", got.Status)
	}

	// Duplicate ids are refused at start.
	if err := s.StartJob(ctx, runningJob("done", "fn", t0)); err == nil {
		t.Error("StartJob with a duplicate id succeeded")
	}
}

func TestMarkLost(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	type spec struct {
		id     string
		pid    int
		start  int64
		finish bool
	}
	specs := []spec{
		{id: "dead", pid: 100, start: 1},
		{id: "alive", pid: 200, start: 2},
		{id: "reused-pid", pid: 100, start: 5}, // same pid, another process
		{id: "no-runner", pid: 0},
		{id: "finished-dead", pid: 100, start: 1, finish: true},
	}
	for i, sp := range specs {
		j := runningJob(sp.id, "fn", t0.Add(time.Duration(i)*time.Second))
		j.RunnerPID, j.RunnerStart = sp.pid, sp.start
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if sp.finish {
			j.Status, j.EndedAt = store.StatusCompleted, t0.Add(time.Minute)
			if err := s.FinishJob(ctx, j, false); err != nil {
				t.Fatal(err)
			}
		}
	}

	type runner struct {
		pid   int
		start int64
	}
	var mu sync.Mutex
	var calls []runner
	alive := func(pid int, start int64) bool {
		mu.Lock()
		calls = append(calls, runner{pid, start})
		mu.Unlock()
		return pid == 200 && start == 2
	}
	now := t0.Add(time.Hour)
	ids, err := s.MarkLost(ctx, now, alive)
	if err != nil {
		t.Fatalf("MarkLost: %v", err)
	}
	sort.Strings(ids)
	if !reflect.DeepEqual(ids, []string{"dead", "reused-pid"}) {
		t.Errorf("MarkLost marked %q, want [dead reused-pid]", ids)
	}
	wantCalls := map[runner]bool{{100, 1}: true, {200, 2}: true, {100, 5}: true}
	if len(calls) != len(wantCalls) {
		t.Errorf("alive called %d times with %v, want once for each running job with a pid", len(calls), calls)
	}
	for _, c := range calls {
		if !wantCalls[c] {
			t.Errorf("alive called with unexpected runner %+v", c)
		}
	}

	wantStatus := map[string]string{
		"dead": store.StatusLost, "reused-pid": store.StatusLost, "alive": store.StatusRunning,
		"no-runner": store.StatusRunning, "finished-dead": store.StatusCompleted,
	}
	for id, want := range wantStatus {
		j, err := s.GetJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != want {
			t.Errorf("job %s status = %s, want %s", id, j.Status, want)
		}
		if want == store.StatusLost {
			if !j.EndedAt.Equal(now) || j.Error == "" {
				t.Errorf("lost job %s: ended_at=%v error=%q, want %v and a reason", id, j.EndedAt, j.Error, now)
			}
		}
	}

	// Nothing left to mark.
	if ids, err := s.MarkLost(ctx, now, alive); err != nil || len(ids) != 0 {
		t.Errorf("second MarkLost = %q, %v; want none, nil", ids, err)
	}
}

func TestListJobs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	type spec struct {
		id, fn, status string
		queued         time.Duration
	}
	specs := []spec{
		{"j1", "a", store.StatusCompleted, 1 * time.Second},
		{"j2", "b", store.StatusFailed, 2 * time.Second},
		{"j3", "a", store.StatusFailed, 3 * time.Second},
		{"j4", "a", store.StatusRunning, 4 * time.Second},
		{"j5", "b", store.StatusCompleted, 5 * time.Second},
		{"j6", "a", store.StatusCompleted, 6 * time.Second},
		// Same queued time as j6: the higher id comes first.
		{"j7", "a", store.StatusCompleted, 6 * time.Second},
	}
	// Insert out of order so ordering must come from the query.
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		sp := specs[i]
		j := runningJob(sp.id, sp.fn, t0.Add(sp.queued))
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if sp.status != store.StatusRunning {
			j.Status = sp.status
			if err := s.FinishJob(ctx, j, false); err != nil {
				t.Fatal(err)
			}
		}
	}

	tests := []struct {
		name   string
		filter store.JobFilter
		want   []string
	}{
		{"all", store.JobFilter{}, []string{"j7", "j6", "j5", "j4", "j3", "j2", "j1"}},
		{"function a", store.JobFilter{Function: "a"}, []string{"j7", "j6", "j4", "j3", "j1"}},
		{"function b", store.JobFilter{Function: "b"}, []string{"j5", "j2"}},
		{"unknown function", store.JobFilter{Function: "zzz"}, nil},
		{"failed", store.JobFilter{Status: store.StatusFailed}, []string{"j3", "j2"}},
		{"running", store.JobFilter{Status: store.StatusRunning}, []string{"j4"}},
		{"lost", store.JobFilter{Status: store.StatusLost}, nil},
		{"a completed", store.JobFilter{Function: "a", Status: store.StatusCompleted}, []string{"j7", "j6", "j1"}},
		{"limit 3", store.JobFilter{Limit: 3}, []string{"j7", "j6", "j5"}},
		{"limit 1 of b", store.JobFilter{Function: "b", Limit: 1}, []string{"j5"}},
		{"limit above count", store.JobFilter{Status: store.StatusFailed, Limit: 10}, []string{"j3", "j2"}},
		{"a completed limit 2", store.JobFilter{Function: "a", Status: store.StatusCompleted, Limit: 2}, []string{"j7", "j6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := s.ListJobs(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, j := range jobs {
				ids = append(ids, j.ID)
				if tt.filter.Function != "" && j.Function != tt.filter.Function {
					t.Errorf("job %s has function %s", j.ID, j.Function)
				}
				if tt.filter.Status != "" && j.Status != tt.filter.Status {
					t.Errorf("job %s has status %s", j.ID, j.Status)
				}
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("ListJobs(%+v) = %v, want %v", tt.filter, ids, tt.want)
			}
		})
	}

	counts, err := s.CountJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{store.StatusCompleted: 4, store.StatusFailed: 2, store.StatusRunning: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("CountJobs = %v, want %v", counts, want)
	}
}

func TestGetJobNotFound(t *testing.T) {
	_, err := newStore(t).GetJob(context.Background(), "missing")
	wantKind(t, err, fault.NotFound)
}

func TestGetFunctionAndDeleteNotFound(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.GetFunction(ctx, "missing")
	wantKind(t, err, fault.NotFound)
	wantKind(t, s.DeleteFunction(ctx, "missing"), fault.NotFound)
	fs, err := s.ListFunctions(ctx, "", false)
	if err != nil || len(fs) != 0 {
		t.Errorf("ListFunctions on empty store = %v, %v", fs, err)
	}
}

// runWorkers simulates separate processes: each worker opens its own Store
// on home and records perWorker jobs, each started and then finished.
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

// TestConcurrentStoresSeparateOpens: 8 "processes" share an existing home,
// each with its own Open, and record 25 jobs each.
func TestConcurrentStoresSeparateOpens(t *testing.T) {
	const workers, perWorker = 8, 25
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home")
	// The home exists, as it does after the first faas command ran (see
	// TestConcurrentFirstOpen for a home that does not).
	first, err := sqlite.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	for _, err := range runWorkers(home, workers, perWorker) {
		t.Error(err)
	}

	s := openStore(t, home)
	counts, err := s.CountJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.StatusCompleted] != workers*perWorker || len(counts) != 1 {
		t.Errorf("CountJobs = %v, want only %d completed", counts, workers*perWorker)
	}
	running, err := s.ListJobs(ctx, store.JobFilter{Status: store.StatusRunning})
	if err != nil || len(running) != 0 {
		t.Errorf("running jobs after all finished = %d, %v", len(running), err)
	}
	for w := 0; w < workers; w++ {
		for i := 0; i < perWorker; i++ {
			id := fmt.Sprintf("w%d-j%02d", w, i)
			j, err := s.GetJob(ctx, id)
			if err != nil {
				t.Errorf("GetJob(%s): %v", id, err)
				continue
			}
			if j.Status != store.StatusCompleted || string(j.Logs) != "log of "+id || j.RunnerPID != 1000+w {
				t.Errorf("job %s = status %s logs %q pid %d", id, j.Status, j.Logs, j.RunnerPID)
			}
		}
	}
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
	stmts := []string{"ALTER TABLE jobs DROP COLUMN cause", "DROP TABLE secrets", "ALTER TABLE versions DROP COLUMN tree", "ALTER TABLE versions DROP COLUMN deps", "ALTER TABLE versions DROP COLUMN build_log", "DROP INDEX jobs_trigger", "ALTER TABLE jobs DROP COLUMN trigger", "DROP TABLE schedule_runs", "ALTER TABLE jobs DROP COLUMN callback_url", "ALTER TABLE jobs DROP COLUMN callback_status", "ALTER TABLE jobs DROP COLUMN callback_attempts", "ALTER TABLE jobs DROP COLUMN callback_error", "ALTER TABLE jobs DROP COLUMN destination_job", "ALTER TABLE jobs DROP COLUMN destination_error", "PRAGMA user_version = 7"}
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
// clears it while the job waits, and MarkLost says lost.
func TestCauseIsRecorded(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, c := range []faastype.Cause{faastype.CauseFunction, faastype.CausePlatform, faastype.CauseInterrupted} {
		j := store.Job{ID: fmt.Sprintf("c%d", i), Function: "f", Version: 1, Status: store.StatusRunning, Provider: "local",
			QueuedAt: t0, StartedAt: t0, MemoryMB: 128, RunnerPID: 1, RunnerStart: 1}
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		j.Status, j.Cause, j.EndedAt = store.StatusFailed, c, t0.Add(time.Second)
		if err := s.FinishJob(ctx, j, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetJob(ctx, j.ID); got.Cause != c {
			t.Errorf("cause %q, want %q", got.Cause, c)
		}
	}
	if err := s.EnqueueJob(ctx, store.Job{ID: "r", Function: "f", Version: 1, Status: store.StatusWaiting, Provider: "local",
		QueuedAt: t0, MemoryMB: 128, Retries: 1}); err != nil {
		t.Fatal(err)
	}
	j, ok, err := s.ClaimNext(ctx, t0, 1, 1)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	j.Status, j.Cause = store.StatusFailed, faastype.CauseFunction
	if err := s.FinishJob(ctx, j, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetJob(ctx, "r"); got.Status != store.StatusWaiting || got.Cause != faastype.CauseNone {
		t.Errorf("requeued job: %s cause %q, want waiting with no cause", got.Status, got.Cause)
	}
	if _, ok, err := s.ClaimNext(ctx, t0, 99, 99); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := s.MarkLost(ctx, t0, func(int, int64) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetJob(ctx, "r"); got.Status != store.StatusLost || got.Cause != faastype.CauseLost {
		t.Errorf("lost job: %s cause %q", got.Status, got.Cause)
	}
}
