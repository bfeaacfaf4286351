package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

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

func testStartFinishJobRoundTrip(t *testing.T, b Backend) {
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
			s := b.open(t)
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

func testFinishJobNotRunning(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)

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

func testMarkLost(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	type spec struct {
		id     string
		pid    int
		start  int64
		finish bool
		host   string
	}
	specs := []spec{
		{id: "dead", pid: 100, start: 1},
		// Run on another host sharing the database: its pid means nothing
		// here, so it is never judged here.
		{id: "other-host", pid: 100, start: 1, host: "another-host"},
		{id: "alive", pid: 200, start: 2},
		{id: "reused-pid", pid: 100, start: 5}, // same pid, another process
		{id: "no-runner", pid: 0},
		{id: "finished-dead", pid: 100, start: 1, finish: true},
	}
	for i, sp := range specs {
		j := runningJob(sp.id, "fn", t0.Add(time.Duration(i)*time.Second))
		j.RunnerPID, j.RunnerStart, j.RunnerHost = sp.pid, sp.start, sp.host
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
		"dead": store.StatusLost, "reused-pid": store.StatusLost, "alive": store.StatusRunning, "other-host": store.StatusRunning,
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

func testListJobs(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
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

func testCauseIsRecorded(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
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

func runWorkers(again func() (Store, error), workers, perWorker int) []error {
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
			s, err := again()
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

// testConcurrentStoresSeparateOpens: 8 "processes" share an existing
// database, each with its own store, and record 25 jobs each.
func testConcurrentStoresSeparateOpens(t *testing.T, b Backend) {
	const workers, perWorker = 8, 25
	ctx := context.Background()
	s, again := b.New(t)

	for _, err := range runWorkers(again, workers, perWorker) {
		t.Error(err)
	}

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
