package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// jobsView is the jobs page's data: the filter and what it found.
type jobsView struct {
	Filter   store.JobFilter
	Jobs     []store.Job
	Statuses []string
	Live     bool
}

var jobStatuses = []string{store.StatusWaiting, store.StatusRunning, store.StatusCompleted, store.StatusFailed, store.StatusTimeout, store.StatusLost}

func (d *Dashboard) jobsPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	q := r.URL.Query()
	f := store.JobFilter{Function: q.Get("function"), Status: q.Get("status"), Limit: 50}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			d.errorPage(w, r, s, fault.Usagef("limit=%s: use a number from 1 to 1000", v))
			return
		}
		f.Limit = n
	}
	jobs, err := eng.Jobs(r.Context(), f)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	v := d.view(s, "Jobs", "jobs", "", jobsView{Filter: f, Jobs: jobs, Statuses: jobStatuses})
	// The list refreshes itself while the script runs: new jobs and their
	// statuses appear without a reload.
	v.Live = true
	d.render(w, http.StatusOK, "jobs.html", v)
}

// jobView is a job's page data.
type jobView struct {
	Job  store.Job
	Logs []string
}

func (d *Dashboard) jobPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	j, err := eng.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	jv := jobView{Job: j}
	// A running job's lines are in the instance's log until it ends; the
	// engine reads them for the job as `faas logs --job` does.
	if len(j.Logs) == 0 && (j.Status == store.StatusRunning || j.Status == store.StatusWaiting) {
		if lines, err := eng.Logs(r.Context(), engine.LogsRequest{JobID: j.ID}); err == nil {
			for _, l := range lines {
				jv.Logs = append(jv.Logs, l.Line)
			}
		}
	}
	v := d.view(s, "Job "+j.ID, "jobs", "", jv)
	v.Live = j.Status == store.StatusRunning || j.Status == store.StatusWaiting
	d.render(w, http.StatusOK, "job.html", v)
}

// followJob streams the lines a running job prints, as NDJSON log lines
// (`faas logs -f -o json`'s), until it ends or the browser goes; the
// job's page reads it with a script and reloads when it ends.
func (d *Dashboard) followJob(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	j, err := eng.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	if j.Status != store.StatusRunning && j.Status != store.StatusWaiting {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		// The stream ends with the job.
		for ctx.Err() == nil {
			got, err := eng.WaitJob(ctx, j.ID, 30*time.Second)
			if err != nil || (got.Status != store.StatusRunning && got.Status != store.StatusWaiting) {
				// Let the last lines arrive before the stream closes.
				select {
				case <-ctx.Done():
				case <-time.After(300 * time.Millisecond):
				}
				cancel()
				return
			}
		}
	}()
	since := j.QueuedAt
	if !j.StartedAt.IsZero() {
		since = j.StartedAt
	}
	enc := json.NewEncoder(w)
	_ = eng.FollowLogs(ctx, j.Function, since.Add(-time.Second), func(l faastype.LogLine) {
		if l.JobID != j.ID {
			return
		}
		if enc.Encode(l) != nil {
			cancel()
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	})
}
