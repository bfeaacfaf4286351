package engine

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// An HTTP call names its job, and gives the function it read to decide
// access; its invocation says the payload is an HTTP event.
func TestInvokeHTTPJob(t *testing.T) {
	e := newEngine(t)
	deploy(t, e, "fn", "fn.py", "print(1)")
	now := time.Now()
	fr := &fakeProvider{out: faastype.Outcome{Status: faastype.Completed, StartedAt: now, EndedAt: now}}
	e.SetProvider(fr)
	fn, err := e.Function(context.Background(), "fn")
	if err != nil {
		t.Fatal(err)
	}
	id := NewJobID(now)
	job, err := e.Invoke(context.Background(), InvokeRequest{Name: "fn", Payload: []byte(`{}`), Trigger: faastype.TriggerHTTP, JobID: id, Function: &fn})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != id || job.Trigger != faastype.TriggerHTTP || len(fr.runs) != 1 || !fr.runs[0].HTTP || fr.runs[0].JobID != id {
		t.Fatalf("job %+v, runs %+v", job, fr.runs)
	}
	if _, err := e.Invoke(context.Background(), InvokeRequest{Name: "fn"}); err != nil || fr.runs[1].HTTP {
		t.Fatalf("a cli invoke ran as HTTP (%v)", err)
	}
	// A function read for another name, or another owner's, is refused.
	if _, err := e.Invoke(context.Background(), InvokeRequest{Name: "other", Function: &fn}); fault.KindOf(err) != fault.Platform {
		t.Fatalf("another name's function: %v", err)
	}
	if _, err := e.As("bob").Invoke(context.Background(), InvokeRequest{Name: "fn", Function: &fn}); fault.KindOf(err) != fault.Platform {
		t.Fatalf("another owner's function: %v", err)
	}
}
