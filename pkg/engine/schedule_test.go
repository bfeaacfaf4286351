package engine

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// fakeClock is a time that only moves when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// scheduled deploys a function with a schedule at the clock's time and
// returns the engines of two processes sharing its database.
func scheduled(t *testing.T, clock *fakeClock, expr string) (*Engine, *Engine) {
	t.Helper()
	a := newEngine(t)
	a.Now = clock.Now
	cfg := function.DefaultConfig()
	cfg.Schedule = expr
	if _, err := a.Deploy(context.Background(), DeployRequest{Name: "tick", Filename: "tick.sh", Code: []byte("echo hi\n"), Config: cfg}); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), a.Home)
	if err != nil {
		t.Fatal(err)
	}
	b := New(a.Home, st)
	b.Now = clock.Now
	t.Cleanup(func() { b.Close() })
	return a, b
}

func scheduleJobs(t *testing.T, e *Engine) []store.Job {
	t.Helper()
	jobs, err := e.store.ListJobs(context.Background(), store.JobFilter{Trigger: faastype.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// Two servers' schedulers on one database, passing at once at every
// moment of five minutes: each minute's tick fires once.
func TestScheduleFiresOncePerTickWithTwoSchedulers(t *testing.T) {
	start := time.Date(2026, 11, 3, 12, 0, 30, 0, time.UTC)
	clock := &fakeClock{t: start}
	a, b := scheduled(t, clock, "rate(1 minute)")
	sa := &Scheduler{Engine: a, Clock: clock.Now}
	sb := &Scheduler{Engine: b, Clock: clock.Now}
	for step := range 5 * 6 { // every 10 s
		clock.Set(start.Add(time.Duration(step) * 10 * time.Second))
		var wg sync.WaitGroup
		for _, s := range []*Scheduler{sa, sb, sa, sb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.Pass(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	jobs := scheduleJobs(t, a)
	if len(jobs) != 5 { // 12:01 to 12:05 (the clock ends at 12:05:20); 12:00 was before the deploy
		t.Fatalf("%d scheduled jobs, want 5", len(jobs))
	}
	ticks := map[string]bool{}
	for _, j := range jobs {
		full, err := a.store.GetJob(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Time       string   `json:"time"`
			DetailType string   `json:"detail-type"`
			Source     string   `json:"source"`
			Resources  []string `json:"resources"`
		}
		if err := json.Unmarshal(full.Payload, &ev); err != nil {
			t.Fatalf("payload %s: %v", full.Payload, err)
		}
		if ev.DetailType != "Scheduled Event" || ev.Source != "faas.schedule" || len(ev.Resources) != 1 {
			t.Errorf("event %s", full.Payload)
		}
		if ticks[ev.Time] {
			t.Errorf("tick %s fired twice", ev.Time)
		}
		ticks[ev.Time] = true
	}
	for _, want := range []string{"2026-11-03T12:01:00Z", "2026-11-03T12:05:00Z"} {
		if !ticks[want] {
			t.Errorf("no job for %s: %v", want, ticks)
		}
	}
}

// Nothing ran for five minutes: the latest missed tick fires once at
// start, the older ones not at all.
func TestScheduleMissedTickFiresOnceAtStart(t *testing.T) {
	deployed := time.Date(2026, 11, 3, 12, 0, 30, 0, time.UTC)
	clock := &fakeClock{t: deployed}
	a, _ := scheduled(t, clock, "rate(1 minute)")
	clock.Set(deployed.Add(5 * time.Minute)) // 12:05:30
	s := &Scheduler{Engine: a, Clock: clock.Now}
	fired, next, err := s.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fired) != 1 || !fired[0].Tick.Equal(time.Date(2026, 11, 3, 12, 5, 0, 0, time.UTC)) || fired[0].Job == "" {
		t.Fatalf("fired %+v, want the 12:05 tick", fired)
	}
	if !next.Equal(time.Date(2026, 11, 3, 12, 6, 0, 0, time.UTC)) {
		t.Errorf("next %v", next)
	}
	// A second process starting now finds it claimed.
	again := &Scheduler{Engine: a, Clock: clock.Now}
	if fired, _, _ := again.Pass(context.Background()); len(fired) != 0 {
		t.Errorf("a second start fired %+v", fired)
	}
	if n := len(scheduleJobs(t, a)); n != 1 {
		t.Fatalf("%d jobs, want 1", n)
	}
	clock.Set(deployed.Add(6 * time.Minute))
	if fired, _, _ := s.Pass(context.Background()); len(fired) != 1 {
		t.Errorf("the next tick fired %+v", fired)
	}
}

// A redeploy that names other settings keeps the schedule; one that
// names --schedule ” removes it.
func TestRedeployKeepsSchedule(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)}
	a, _ := scheduled(t, clock, "cron(0 12 * * ? *)")
	ctx := context.Background()
	cfg := function.DefaultConfig()
	cfg.MemoryMB = 512
	if _, err := a.Deploy(ctx, DeployRequest{Name: "tick", Filename: "tick.sh", Code: []byte("echo hi\n"), Config: cfg, Keep: true, Set: []string{"memory"}}); err != nil {
		t.Fatal(err)
	}
	fn, _ := a.Function(ctx, "tick")
	if fn.Current.Config.Schedule != "cron(0 12 * * ? *)" || fn.Current.Config.MemoryMB != 512 {
		t.Fatalf("config after a redeploy: %+v", fn.Current.Config)
	}
	if _, err := a.Deploy(ctx, DeployRequest{Name: "tick", Filename: "tick.sh", Code: []byte("echo hi\n"), Config: function.DefaultConfig(), Keep: true, Set: []string{"schedule"}}); err != nil {
		t.Fatal(err)
	}
	if fn, _ := a.Function(ctx, "tick"); fn.Current.Config.Schedule != "" {
		t.Fatalf("schedule not removed: %+v", fn.Current.Config)
	}
}
