package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

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

func mustDeploy(t *testing.T, s Store, r store.DeployRequest) (store.Version, bool) {
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

func currentVersion(t *testing.T, s Store, name string) int {
	t.Helper()
	f, err := s.GetFunction(context.Background(), name)
	if err != nil {
		t.Fatalf("GetFunction(%s): %v", name, err)
	}
	return f.Current.Version
}

func testDeployVersions(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
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

func testRollback(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
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

func testRollbackSingleVersion(t *testing.T, b Backend) {
	s := b.open(t)
	mustDeploy(t, s, deployReq("one", "print(1)", pyConfig(), t0))
	_, _, err := s.Rollback(context.Background(), "one", 0, t0)
	wantKind(t, err, fault.NotFound)
	if cur := currentVersion(t, s, "one"); cur != 1 {
		t.Errorf("current = %d, want 1", cur)
	}
}

func kindPtr(k fault.Kind) *fault.Kind { return &k }

func testDeleteFunctionKeepsJobs(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
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

func testGetJobNotFound(t *testing.T, b Backend) {
	_, err := b.open(t).GetJob(context.Background(), "missing")
	wantKind(t, err, fault.NotFound)
}

func testGetFunctionAndDeleteNotFound(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	_, err := s.GetFunction(ctx, "missing")
	wantKind(t, err, fault.NotFound)
	wantKind(t, s.DeleteFunction(ctx, "missing"), fault.NotFound)
	fs, err := s.ListFunctions(ctx, "", false)
	if err != nil || len(fs) != 0 {
		t.Errorf("ListFunctions on empty store = %v, %v", fs, err)
	}
}
