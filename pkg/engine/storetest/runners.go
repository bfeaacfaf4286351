package storetest

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/store"
)

// Runners on other hosts beat; the running jobs of one silent for three of
// its beats (or never heard from, past the grace) end lost, each once,
// however many servers look at the same time. This host's runners are
// judged by their pids (MarkLost), never by their beats. The clock is the
// test's.
func testMarkSilent(t *testing.T, b Backend) {
	ctx := context.Background()
	s, again := b.New(t)
	const every = 10 * time.Second
	beating := store.Runner{Host: "host-b", PID: 10, Start: 1}
	silent := store.Runner{Host: "host-c", PID: 10, Start: 1}
	slow := store.Runner{Host: "host-d", PID: 10, Start: 1} // beats every minute
	never := store.Runner{Host: "host-e", PID: 10, Start: 1}
	here := store.Runner{Host: proc.HostID(), PID: 10, Start: 1}
	start := func(id string, r store.Runner, at time.Time) {
		t.Helper()
		j := runningJob(id, "fn", at)
		j.RunnerHost, j.RunnerPID, j.RunnerStart = r.Host, r.PID, r.Start
		if err := s.StartJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	beat := func(r store.Runner, at time.Time, every time.Duration) {
		t.Helper()
		if err := s.Beat(ctx, r, at, every); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []store.Runner{beating, silent, here} {
		beat(r, t0, every)
	}
	beat(slow, t0, time.Minute)
	start("beating", beating, t0)
	start("silent-1", silent, t0)
	start("silent-2", silent, t0.Add(time.Second))
	start("slow", slow, t0)
	start("never", never, t0)
	start("never-new", never, t0.Add(50*time.Second))
	start("here", here, t0)

	mark := func(st Store, at time.Time) []string {
		t.Helper()
		ids, err := st.MarkSilent(ctx, at, 3*every)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(ids)
		return ids
	}
	// Within three beats nobody is silent.
	if ids := mark(s, t0.Add(3*every)); len(ids) != 0 {
		t.Fatalf("MarkSilent within three beats marked %q", ids)
	}
	beat(beating, t0.Add(25*time.Second), every)
	// At 55 s: host-c was last heard at 0 s (over 30 s ago), host-e never
	// and its first job started over 30 s ago; host-b at 25 s, host-d at 0
	// s with a minute's beat.
	at := t0.Add(55 * time.Second)
	other, err := again()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	got := make([][]string, 4)
	for i := range got {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, err := st.MarkSilent(ctx, at, 3*every)
			if err != nil {
				t.Error(err)
			}
			got[i] = ids
		}()
	}
	wg.Wait()
	var all []string
	for _, ids := range got {
		all = append(all, ids...)
	}
	sort.Strings(all)
	if want := []string{"never", "silent-1", "silent-2"}; !reflect.DeepEqual(all, want) {
		t.Errorf("four concurrent MarkSilent marked %q between them, want each of %q once", all, want)
	}
	for id, want := range map[string]string{"beating": store.StatusRunning, "silent-1": store.StatusLost, "silent-2": store.StatusLost,
		"slow": store.StatusRunning, "never": store.StatusLost, "never-new": store.StatusRunning, "here": store.StatusRunning} {
		j, err := s.GetJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != want {
			t.Errorf("job %s is %s, want %s", id, j.Status, want)
		}
		if want == store.StatusLost && (!j.EndedAt.Equal(at) || j.Cause != "lost" || !strings.Contains(j.Error, "heartbeat") ||
			!strings.Contains(j.Error, proc.HostID())) {
			t.Errorf("lost job %s: ended %v, cause %q, error %q; want %v, lost, and a reason naming this host", id, j.EndedAt, j.Cause, j.Error, at)
		}
	}
	// A late result of a job ended lost is refused.
	j := runningJob("silent-1", "fn", t0)
	j.Status, j.EndedAt = store.StatusCompleted, at
	if err := s.FinishJob(ctx, j, false); err == nil {
		t.Error("FinishJob of a job marked lost succeeded")
	}
	// A runner that stops is forgotten: its jobs are judged as never heard
	// from.
	if err := s.ForgetRunner(ctx, beating); err != nil {
		t.Fatal(err)
	}
	if ids := mark(s, t0.Add(31*time.Second)); !reflect.DeepEqual(ids, []string{"beating"}) {
		t.Errorf("after ForgetRunner, MarkSilent marked %q, want [beating]", ids)
	}
	if ids := mark(s, at.Add(time.Hour)); !reflect.DeepEqual(ids, []string{"never-new", "slow"}) {
		t.Errorf("an hour later MarkSilent marked %q, want [never-new slow]", ids)
	}
}
