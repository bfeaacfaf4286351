package server

import (
	"context"
	"net/http"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/web"
)

// dashboard is the web dashboard (pkg/web) over this server's engine: the
// same token check as the API (s.owner) and the same invoke path (the
// per-owner limit and the metrics).
func (s *Server) dashboard() http.Handler {
	return web.New(web.Options{Engine: s.eng, Owner: s.owner, Dev: s.o.Dev, Invoke: s.invokeFromPage, DeployLimit: DeployLimit})
}

func (s *Server) invokeFromPage(ctx context.Context, eng *engine.Engine, r engine.InvokeRequest) (store.Job, error) {
	if !s.acquire(eng.Owner) {
		s.metricsOf(eng.Owner).throttled.Add(1)
		return store.Job{}, fault.WithHint(fault.Newf(fault.Busy, "too many invocations in flight for %q (limit %d)", eng.Owner, s.o.PerOwner),
			"retry after a second")
	}
	job, err := eng.Invoke(ctx, r)
	s.release(eng.Owner)
	if job.ID != "" {
		s.observe(job, err)
	}
	return job, err
}
