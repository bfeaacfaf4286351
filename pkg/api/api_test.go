package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

func TestNewJobJSON(t *testing.T) {
	q := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	code := 0
	j := store.Job{
		ID: "j1", Function: "fn", Version: 2, Status: store.StatusCompleted, QueuedAt: q,
		Duration: 1500*time.Millisecond + 250*time.Microsecond, ExitCode: &code,
		Result: []byte("ok"), Logs: []byte("log\n"),
	}
	v := api.NewJob(j, false)
	if v.StartedAt != nil || v.EndedAt != nil || v.Result != nil || v.Logs != nil {
		t.Errorf("NewJobJSON(whole=false) = %+v, want nil times, result and logs", v)
	}
	if v.DurationMS != 1500.25 || v.ExitCode == nil || *v.ExitCode != 0 {
		t.Errorf("duration_ms=%v exit=%v, want 1500.25 and 0", v.DurationMS, v.ExitCode)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"started_at":null`, `"ended_at":null`, `"queued_at":"2026-11-03T10:00:00Z"`, `"exit_code":0`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	if strings.Contains(s, `"result"`) || strings.Contains(s, `"logs"`) {
		t.Errorf("JSON %s has result or logs without whole", s)
	}

	j.StartedAt, j.ExitCode = q.Add(time.Second), nil
	w := api.NewJob(j, true)
	if w.StartedAt == nil || !w.StartedAt.Equal(q.Add(time.Second)) || w.ExitCode != nil ||
		w.Result == nil || *w.Result != "ok" || w.Logs == nil || *w.Logs != "log\n" {
		t.Errorf("NewJobJSON(whole=true) = %+v", w)
	}
}

func TestNewFunctionJSON(t *testing.T) {
	c := function.DefaultConfig()
	c.Runtime, c.Mode, c.Env = function.Python, function.Handler, nil
	f := store.Function{Name: "fn", Provider: "local", Versions: 3, Current: store.Version{Version: 2, Config: c}}
	v := api.NewFunction(f)
	if v.Env == nil || v.Version != 2 || v.Versions != 3 || v.Runtime != "python" || v.Mode != "handler" || v.MemoryMB != 256 {
		t.Errorf("NewFunctionJSON = %+v", v)
	}
}

// TestErrorKindsRoundTrip: every kind of error survives the wire, so that
// a command against a server exits as it would locally.
func TestErrorKindsRoundTrip(t *testing.T) {
	for _, c := range []struct {
		kind   fault.Kind
		status int
	}{
		{fault.Usage, 400}, {fault.NotFound, 404}, {fault.Conflict, 409}, {fault.Unauthorized, 401},
		{fault.Busy, 429}, {fault.TooLarge, 413}, {fault.Function, 422}, {fault.Platform, 500},
	} {
		status, body := api.NewError(fault.WithHint(fault.Newf(c.kind, "boom"), "try again"))
		back := body.Err()
		if status != c.status || fault.KindOf(back) != c.kind || back.Error() != "boom" || fault.HintOf(back) != "try again" {
			t.Errorf("kind %d: status %d, body %+v, back %v (kind %d)", c.kind, status, body, back, fault.KindOf(back))
		}
	}
}
