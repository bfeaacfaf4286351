package server

import (
	"context"
	"net/http"

	"github.com/faasdev/faas/pkg/engine"
)

// runSchedules fires the functions' schedules until ctx ends; the jobs
// it queues wake the server's dispatcher. Another server or a watcher on
// the same database may fire them too: each tick fires once.
func (s *Server) runSchedules(ctx context.Context) error {
	sch := &engine.Scheduler{Engine: s.eng, Log: s.o.Log.With("component", "scheduler"), Queued: func() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}}
	return sch.Run(ctx)
}

// callbackURL is an invoke's callback: the X-Callback-Url header (as
// OpenFaaS names it), else ?callback=.
func callbackURL(r *http.Request) string {
	if v := r.Header.Get("X-Callback-Url"); v != "" {
		return v
	}
	return r.URL.Query().Get("callback")
}

// wakeDispatcher makes the dispatcher look at the queue at once.
func (s *Server) wakeDispatcher() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
