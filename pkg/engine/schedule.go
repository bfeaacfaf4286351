package engine

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/store"
)

// Scheduler fires the functions' schedules: each tick of a schedule
// queues one job (trigger schedule) with EventBridge's scheduled event as
// its payload. Any number of schedulers may share a database (two
// servers, a server and a watcher): each tick is claimed in the store, so
// it fires once. A tick missed while no scheduler ran fires once when one
// starts; older missed ticks are skipped, and ticks from before the
// function's current version was deployed never fire.
type Scheduler struct {
	Engine *Engine
	// Clock is the time (default: the engine's Now).
	Clock func() time.Time
	// After waits (default time.After); tests make it return at once.
	After func(time.Duration) <-chan time.Time
	// MaxWait bounds the wait between passes, so that a schedule deployed
	// meanwhile is seen (default 20 s).
	MaxWait time.Duration
	// Queued is called after a pass queued jobs, to wake what runs them.
	Queued func()
	// Log hears a line per tick fired and per error (may be nil).
	Log *slog.Logger

	mu sync.Mutex
	// seen is each function's latest tick this scheduler saw claimed
	// (by itself or another): it does not try that tick again.
	seen map[string]time.Time
}

// Fired is one tick a pass handled.
type Fired struct {
	Function string
	Tick     time.Time
	// Job is the job it queued ("" when another scheduler claimed the
	// tick, or the job could not be queued: Error says why).
	Job   string
	Error string
}

// Pass fires every schedule whose latest tick has not fired, and returns
// what it fired and when the next tick is due (zero: no schedule).
func (s *Scheduler) Pass(ctx context.Context) ([]Fired, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.Engine
	now := s.now()
	fns, err := e.store.ListFunctions(ctx, "", false)
	if err != nil {
		return nil, time.Time{}, err
	}
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	var fired []Fired
	var next time.Time
	for _, fn := range fns {
		sch, ok, err := fn.Current.Config.ParseSchedule()
		if err != nil || !ok {
			continue
		}
		if n := sch.Next(now); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
		tick := sch.Prev(now)
		if tick.IsZero() || !tick.After(fn.Current.CreatedAt) || !tick.After(s.seen[fn.Name]) {
			continue
		}
		job, why := s.job(ctx, fn, tick, now)
		claimed, err := e.store.ClaimTick(ctx, fn.Name, tick, job, why, now)
		if err != nil {
			s.log(slog.LevelError, "schedule not claimed", "function", fn.Name, "tick", tick.UTC(), "error", err.Error())
			continue
		}
		s.seen[fn.Name] = tick
		if !claimed {
			continue
		}
		f := Fired{Function: fn.Name, Tick: tick, Job: job.ID, Error: why}
		fired = append(fired, f)
		if why != "" {
			s.log(slog.LevelWarn, "schedule not run", "function", fn.Name, "tick", tick.UTC(), "reason", why)
		} else {
			s.log(slog.LevelInfo, "schedule fired", "function", fn.Name, "tick", tick.UTC(), "job_id", job.ID)
		}
	}
	if len(fired) > 0 && s.Queued != nil {
		s.Queued()
	}
	return fired, next, nil
}

// job is the job a tick queues, or why none can be (the budget).
func (s *Scheduler) job(ctx context.Context, fn store.Function, tick, now time.Time) (store.Job, string) {
	e := s.Engine.As(fn.Owner)
	payload := ScheduledEvent(fn.Name, fn.Owner, tick)
	if _, _, _, err := e.admit(ctx, fn.Name, payload, 0, nil); err != nil {
		return store.Job{}, err.Error()
	}
	return store.Job{
		ID: NewJobID(now), Function: fn.Name, Version: fn.Current.Version, Owner: fn.Owner, Status: store.StatusWaiting,
		Provider: fn.Provider, QueuedAt: now, MemoryMB: fn.Current.Config.MemoryMB, Payload: payload,
		Trigger: faastype.TriggerSchedule,
	}, ""
}

// ScheduledEvent is the payload of a scheduled run: EventBridge's
// "Scheduled Event", whose time is the tick (not when it ran). Its id is
// the same for the same function and tick.
func ScheduledEvent(fn, owner string, tick time.Time) []byte {
	sum := sha256.Sum256([]byte(fn + "\x00" + tick.UTC().Format(time.RFC3339Nano)))
	sum[6], sum[8] = sum[6]&0x0f|0x50, sum[8]&0x3f|0x80 // a name-based UUID
	account := owner
	if account == "" {
		account = "local"
	}
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]),
		"detail-type": "Scheduled Event", "source": "faas.schedule", "account": account,
		"time": tick.UTC().Format(time.RFC3339), "region": "local",
		"resources": []string{"faas:schedule/" + fn}, "detail": map[string]any{},
	})
	return b
}

// Run passes until ctx ends, waking at each next tick.
func (s *Scheduler) Run(ctx context.Context) error {
	after, maxWait := s.After, s.MaxWait
	if after == nil {
		after = time.After
	}
	if maxWait <= 0 {
		maxWait = 20 * time.Second
	}
	for {
		_, next, err := s.Pass(ctx)
		if err != nil {
			s.log(slog.LevelError, "schedule pass failed", "error", err.Error())
		}
		wait := maxWait
		if !next.IsZero() {
			wait = min(wait, next.Sub(s.now())+5*time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-after(max(wait, 10*time.Millisecond)):
		}
	}
}

func (s *Scheduler) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return s.Engine.Now()
}

func (s *Scheduler) log(level slog.Level, msg string, args ...any) {
	if s.Log != nil {
		s.Log.Log(context.Background(), level, msg, args...)
	}
}

// ScheduleInfo is a scheduled function as `faas schedules` shows it.
type ScheduleInfo struct {
	Function string    `json:"function"`
	Owner    string    `json:"owner"`
	Schedule string    `json:"schedule"`
	TZ       string    `json:"schedule_tz"`
	Next     time.Time `json:"next_run"`
}

// Schedules lists the functions that have a schedule, with their next
// runs after now, soonest first.
func Schedules(fns []store.Function, now time.Time) []ScheduleInfo {
	out := []ScheduleInfo{}
	for _, fn := range fns {
		sch, ok, err := fn.Current.Config.ParseSchedule()
		if err != nil || !ok {
			continue
		}
		tz := fn.Current.Config.ScheduleTZ
		if tz == "" {
			tz = "UTC"
		}
		out = append(out, ScheduleInfo{Function: fn.Name, Owner: fn.Owner, Schedule: sch.String(), TZ: tz, Next: sch.Next(now).UTC()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Next.Before(out[j].Next) })
	return out
}
