package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Secrets: a put says whether it was new, lists leave values out, a read
// of a name not set is not found.
func testSecrets(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	put := func(owner, name, val string, at time.Time) bool {
		t.Helper()
		created, err := s.PutSecret(ctx, store.Secret{Owner: owner, Name: name, Sealed: []byte(val), Size: len(val), CreatedAt: at, UpdatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	if !put("ada", "B", "one", t0) || !put("ada", "A", "two", t0) || !put("bob", "A", "bob's", t0) {
		t.Fatal("first puts not created")
	}
	if put("ada", "B", "three!", t0.Add(time.Minute)) {
		t.Error("replacing put says created")
	}
	ls, err := s.ListSecrets(ctx, "ada")
	if err != nil || len(ls) != 2 || ls[0].Name != "A" || ls[1].Name != "B" || ls[1].Size != 6 || ls[1].Sealed != nil ||
		!ls[1].CreatedAt.Equal(t0) || !ls[1].UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ListSecrets(ada) = %+v, %v", ls, err)
	}
	got, err := s.GetSecrets(ctx, "ada", []string{"B", "A"})
	if err != nil || len(got) != 2 || string(got[0].Sealed) != "two" || string(got[1].Sealed) != "three!" {
		t.Fatalf("GetSecrets = %+v, %v", got, err)
	}
	_, err = s.GetSecrets(ctx, "bob", []string{"A", "B"})
	wantKind(t, err, fault.NotFound)
	if got, err := s.GetSecrets(ctx, "bob", nil); err != nil || len(got) != 0 {
		t.Errorf("GetSecrets of no names = %v, %v", got, err)
	}
	if err := s.DeleteSecret(ctx, "ada", "A"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.DeleteSecret(ctx, "ada", "A"), fault.NotFound)
	if ls, _ := s.ListSecrets(ctx, "bob"); len(ls) != 1 {
		t.Errorf("bob's secrets after ada's delete: %+v", ls)
	}
}

// Settings, spend and the bill: a job's cost lands in its owner's month and
// in the day's roll-up, summed exactly.
func testConfigSpendBill(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	if err := s.SetConfig(ctx, "price.request", "0.2", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfig(ctx, "budget", "10", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfig(ctx, "budget", "", t0); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Config(ctx); err != nil || !reflect.DeepEqual(c, map[string]string{"price.request": "0.2"}) {
		t.Errorf("Config = %v, %v", c, err)
	}
	// Costs past 2^53 pico-dollars stay exact.
	const big = int64(1) << 55
	for i, sp := range []struct {
		id, fn, owner string
		day           int
		req, comp     int64
		status        string
	}{
		{"b1", "f", "ada", 0, 200_000, big, store.StatusCompleted},
		{"b2", "f", "ada", 1, 200_000, 7, store.StatusFailed},
		{"b3", "g", "ada", 1, 200_000, 0, store.StatusCompleted},
		{"b4", "f", "bob", 1, 1, 1, store.StatusCompleted},
	} {
		q := t0.AddDate(0, 0, sp.day)
		j := runningJob(sp.id, sp.fn, q)
		j.Owner = sp.owner
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		j.Status, j.EndedAt, j.Duration, j.BilledMS = sp.status, q.Add(time.Second), time.Duration(i+1)*time.Millisecond, int64(i+1)
		j.RequestPico, j.ComputePico = sp.req, sp.comp
		if err := s.FinishJob(ctx, j, false); err != nil {
			t.Fatal(err)
		}
	}
	month := store.Month(t0)
	if p, err := s.Spend(ctx, month, "ada"); err != nil || p != 600_000+big+7 {
		t.Errorf("Spend(ada) = %d, %v; want %d", p, err, 600_000+big+7)
	}
	if p, err := s.Spend(ctx, "1999-01", "ada"); err != nil || p != 0 {
		t.Errorf("Spend of an empty month = %d, %v", p, err)
	}
	period := store.BillFilter{From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 0, 5), Spender: "ada"}
	d, err := s.Bill(ctx, period)
	want := []store.BillRow{
		{Function: "f", Invocations: 3, Errors: 1, DurationUS: 7000, BilledMS: 7, MBMS: 256 * 7, RequestPico: 400_001, ComputePico: big + 8},
		{Function: "g", Invocations: 1, Errors: 0, DurationUS: 3000, BilledMS: 3, MBMS: 256 * 3, RequestPico: 200_000},
	}
	if err != nil || !reflect.DeepEqual(d.Rows, want) {
		t.Errorf("Bill = %+v, %v\nwant %+v", d.Rows, err, want)
	}
	wantDays := map[string]int64{store.Day(t0): 200_000 + big, store.Day(t0.AddDate(0, 0, 1)): 400_009}
	if !reflect.DeepEqual(d.Daily, wantDays) {
		t.Errorf("Bill's days = %v; want %v", d.Daily, wantDays)
	}
	if p, _ := s.Spend(ctx, store.Month(period.From), "ada"); d.Spent != p {
		t.Errorf("Bill's spend = %d; want Spend's %d", d.Spent, p)
	}
	if !reflect.DeepEqual(d.Config, map[string]string{"price.request": "0.2"}) {
		t.Errorf("Bill's config = %v", d.Config)
	}
	ada := period
	ada.Owner, ada.OwnerSet, ada.Function = "ada", true, "f"
	if d, err := s.Bill(ctx, ada); err != nil || len(d.Rows) != 1 || d.Rows[0].Invocations != 2 {
		t.Errorf("Bill(ada, f) = %+v, %v", d.Rows, err)
	}
	local := period
	local.OwnerSet, local.Spender = true, "nobody"
	if d, err := s.Bill(ctx, local); err != nil || len(d.Rows) != 0 || len(d.Daily) != 0 || d.Spent != 0 {
		t.Errorf("Bill of the local user (owner '') = %+v, %v", d, err)
	}
}

// Placement: a free slot first, else a new instance up to max_instances,
// else the least busy; concurrent claims never pass max_instances.
func testPlacement(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	pl := store.Placement{Provider: "local", Slots: 1, MaxInstances: 2, MemoryMB: 128, CPUs: 1, DiskMB: 512, Version: 1}
	claim := func(id string) store.Placed {
		t.Helper()
		p, err := s.ClaimJob(ctx, runningJob(id, "fn", t0), pl)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := claim("p1")
	if !p1.Launch || p1.Instance.ID != "local-fn-1" || p1.Instance.State != store.InstanceStarting {
		t.Fatalf("first claim = %+v, want a new local-fn-1 to launch", p1)
	}
	up := p1.Instance
	up.Endpoint, up.Token, up.PID, up.PIDStart, up.MemoryMB = "/run/a.sock", "tok", 77, 88, 256
	if err := s.InstanceUp(ctx, up, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if p2 := claim("p2"); !p2.Launch || p2.Instance.ID != "local-fn-2" {
		t.Fatalf("second claim = %+v, want local-fn-2 to launch (local-fn-1's slot is taken)", p2)
	}
	if p3 := claim("p3"); p3.Launch {
		t.Fatalf("third claim at max_instances launched %+v", p3)
	}
	if _, err := s.NewInstance(ctx, "fn", pl, t0); !errors.Is(err, store.ErrAtMax) {
		t.Errorf("NewInstance at max = %v, want ErrAtMax", err)
	}
	rows, err := s.ListInstances(ctx, "fn")
	if err != nil || len(rows) != 2 {
		t.Fatalf("ListInstances = %+v, %v", rows, err)
	}
	r := rows[0]
	if r.ID != "local-fn-1" || r.State != store.InstanceReady || r.Endpoint != "/run/a.sock" || r.PID != 77 || r.PIDStart != 88 ||
		r.MemoryMB != 256 || r.DiskMB != 512 || r.Slots != 1 || r.InFlight+rows[1].InFlight != 3 || !r.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("instance 1 = %+v", r)
	}
	if err := s.SetInstanceState(ctx, "local-fn-2", store.InstanceDraining, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ResizeInstance(ctx, "local-fn-1", 2, 512, 1024, t0); err != nil {
		t.Fatal(err)
	}
	// A draining instance is not placed on, but counts against the maximum.
	if p, err := s.PlaceAgain(ctx, "p3", "fn", pl, t0); err != nil || p.Instance.ID != "local-fn-1" || p.Launch {
		t.Errorf("PlaceAgain = %+v, %v; want local-fn-1", p, err)
	}
	if j, _ := s.GetJob(ctx, "p3"); j.Instance != "local-fn-1" {
		t.Errorf("placed again on %q", j.Instance)
	}
	if err := s.RemoveInstance(ctx, "local-fn-2"); err != nil {
		t.Fatal(err)
	}
	in, err := s.NewInstance(ctx, "fn", pl, t0)
	if err != nil || in.ID != "local-fn-2" {
		t.Errorf("NewInstance after a removal = %+v, %v; want local-fn-2 (numbered after the last left)", in, err)
	}
	all, _ := s.ListInstances(ctx, "")
	if len(all) != 2 || all[0].CPUs != 2 || all[0].MemoryMB != 512 {
		t.Errorf("all instances = %+v", all)
	}

	// Concurrent claims of another function.
	pl.MaxInstances = 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	launched := map[string]int{}
	start := make(chan struct{})
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p, err := s.ClaimJob(ctx, runningJob(fmt.Sprint("c", i), "busy", t0), pl)
			if err != nil {
				t.Error(err)
				return
			}
			if p.Launch {
				mu.Lock()
				launched[p.Instance.ID]++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(launched) != 3 {
		t.Errorf("concurrent claims launched %v, want 3 instances once each", launched)
	}
	rows, _ = s.ListInstances(ctx, "busy")
	n := 0
	for _, r := range rows {
		n += r.InFlight
	}
	if len(rows) != 3 || n != 24 {
		t.Errorf("busy has %d instances with %d jobs, want 3 with 24", len(rows), n)
	}
}

// Scale events, samples, activity, last jobs and recent logs.
func testActivity(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	for i, k := range []string{"out", "in", "warm"} {
		fn := "a"
		if i == 1 {
			fn = "b"
		}
		if err := s.AddScaleEvent(ctx, store.ScaleEvent{Time: t0.Add(time.Duration(i) * time.Second), Function: fn, Kind: k, Reason: "r", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.ScaleEvents(ctx, "a", t0, 10)
	if err != nil || len(evs) != 2 || evs[0].Kind != "warm" || evs[1].Kind != "out" || !evs[0].Time.Equal(t0.Add(2*time.Second)) || evs[0].ID <= evs[1].ID {
		t.Errorf("ScaleEvents(a) = %+v, %v", evs, err)
	}
	if evs, _ := s.ScaleEvents(ctx, "", t0.Add(time.Second), 1); len(evs) != 1 || evs[0].Kind != "warm" {
		t.Errorf("ScaleEvents(all, limit 1) = %+v", evs)
	}
	samples := []store.Sample{
		{Time: t0, Instance: "i1", Function: "a", CPUPct: 12.5, MemUsed: 1, MemTotal: 2, DiskUsed: 3, DiskTotal: 4, Load: 0.25, InFlight: 1},
		{Time: t0.Add(time.Second), Instance: "i1", Function: "a", CPUPct: 50},
	}
	if err := s.AddSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SamplesSince(ctx, t0); err != nil || !reflect.DeepEqual(got, samples) {
		t.Errorf("SamplesSince = %+v, %v", got, err)
	}
	for i := range 3 {
		j := runningJob(fmt.Sprint("l", i), "a", t0.Add(time.Duration(i)*time.Second))
		j.Cold = i == 0
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			j.Status, j.EndedAt, j.Duration, j.Logs = store.StatusCompleted, t0.Add(time.Minute), time.Millisecond, []byte(fmt.Sprint("log ", i))
			if err := s.FinishJob(ctx, j, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	act, err := s.RecentActivity(ctx, t0.Add(time.Second))
	if err != nil || len(act) != 2 || act[0].Duration != time.Millisecond || act[1].Status != store.StatusRunning || act[0].Cold {
		t.Errorf("RecentActivity = %+v, %v", act, err)
	}
	logs, err := s.RecentLogs(ctx, "a", t0, 2)
	if err != nil || len(logs) != 2 || logs[0].ID != "l1" || string(logs[0].Logs) != "log 1" || logs[1].ID != "l2" {
		t.Errorf("RecentLogs = %+v, %v", logs, err)
	}
	now := t0.Add(time.Hour)
	last, err := s.LastJobs(ctx, now)
	if err != nil || !last["a"].Equal(now) || len(last) != 1 {
		t.Errorf("LastJobs = %v, %v", last, err)
	}
}

// GetFunction's cached version is not that of a function removed and
// deployed again under the same name.
func testGetFunctionAfterRedeploy(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	mustDeploy(t, s, deployReq("f", "print(1)", pyConfig(), t0))
	if f, _ := s.GetFunction(ctx, "f"); string(f.Current.Code) != "print(1)" {
		t.Fatalf("code %q", f.Current.Code)
	}
	if err := s.DeleteFunction(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, s, deployReq("f", "print(2)", pyConfig(), t0.Add(time.Second)))
	if f, _ := s.GetFunction(ctx, "f"); string(f.Current.Code) != "print(2)" || f.Current.Version != 1 {
		t.Errorf("after remove and deploy: v%d %q, want v1 print(2)", f.Current.Version, f.Current.Code)
	}
	tree := deployReq("t", "tarball", pyConfig(), t0)
	tree.Tree, tree.Deps, tree.BuildLog = true, "key1", []byte("built")
	mustDeploy(t, s, tree)
	v, err := s.GetVersion(ctx, "t", 1)
	if err != nil || !v.Tree || v.Deps != "key1" || string(v.BuildLog) != "built" {
		t.Errorf("GetVersion = %+v, %v", v, err)
	}
	_, err = s.GetVersion(ctx, "t", 2)
	wantKind(t, err, fault.NotFound)
	if keys, err := s.DepsKeys(ctx); err != nil || !reflect.DeepEqual(keys, []string{"key1"}) {
		t.Errorf("DepsKeys = %v, %v", keys, err)
	}
	// Two first deploys of one name at once: v1 and v2, or v1 twice.
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Deploy(ctx, deployReq("race", fmt.Sprint("print(", i, ")"), pyConfig(), t0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f, err := s.GetFunction(ctx, "race"); err != nil || f.Versions != 2 {
		t.Errorf("after two first deploys: %+v, %v", f, err)
	}
}
