package server

import (
	"context"

	"github.com/faasdev/faas/pkg/engine"
)

// runSchedules fires the functions' schedules until ctx ends; the jobs
// it queues wake the server's dispatcher. Another server or a watcher on
// the same database may fire them too: each tick fires once.
func (s *Server) runSchedules(ctx context.Context) error {
	sch := &engine.Scheduler{Engine: s.eng, Log: s.o.Log, Queued: func() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}}
	return sch.Run(ctx)
}
