package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	f := store.JobFilter{Function: q.Get("function"), Status: q.Get("status"), Trigger: q.Get("trigger"), Limit: 20}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("limit=%s: use a whole number", v))
			return
		}
		f.Limit = n
	}
	jobs, err := eng.Jobs(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]api.Job, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, api.NewJob(j, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	id := r.PathValue("id")
	var j store.Job
	var err error
	if v := r.URL.Query().Get("wait"); v != "" {
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 {
			s.fail(w, fault.Usagef("wait=%s: use a positive duration such as 30s", v))
			return
		}
		// A long poll ends early when the server is stopping.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		j, err = eng.WaitJob(ctx, id, min(d, MaxWait))
		if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
			j, err = eng.Job(r.Context(), id)
		}
	} else {
		j, err = eng.Job(r.Context(), id)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewJob(j, true))
}
