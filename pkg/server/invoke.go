package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

func (s *Server) invoke(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	start := time.Now()
	q := r.URL.Query()
	var timeout time.Duration
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			s.fail(w, fault.Usagef("timeout=%s: use a positive duration such as 30s", v))
			return
		}
		timeout = d
	}
	async := q.Get("async") == "true" || q.Get("async") == "1" || r.Header.Get("X-Faas-Invocation-Type") == "async"
	retries := 0
	if v := q.Get("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("retries=%s: use a whole number from 0 to %d", v, engine.MaxRetries))
			return
		}
		retries = n
	}
	if retries > 0 && !async {
		s.fail(w, fault.Usagef("retries apply to async invokes only: add async=true"))
		return
	}
	cb := callbackURL(r)
	if cb != "" && !async {
		s.fail(w, fault.Usagef("a callback applies to async invokes only: add async=true"))
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, bodyErr(err, "read the payload"))
		return
	}
	name := r.PathValue("name")
	if async {
		job, err := eng.Submit(r.Context(), engine.SubmitRequest{Name: name, Payload: payload, Timeout: timeout, Retries: retries, Trigger: faastype.TriggerAPI, Callback: cb})
		if err != nil {
			s.fail(w, err)
			return
		}
		s.metricsOf(eng.Owner).async.Add(1)
		select {
		case s.wake <- struct{}{}:
		default:
		}
		w.Header().Set("Location", "/v1/jobs/"+job.ID)
		w.Header().Set("X-Faas-Job-Id", job.ID)
		writeJSON(w, http.StatusAccepted, api.Queued{JobID: job.ID, Status: job.Status})
		return
	}
	if !s.acquire(eng.Owner) {
		s.metricsOf(eng.Owner).throttled.Add(1)
		s.fail(w, fault.WithHint(fault.Newf(fault.Busy, "too many invocations in flight for %q (limit %d)", eng.Owner, s.o.PerOwner),
			"retry after a second, or use async=true to queue"))
		return
	}
	job, err := eng.Invoke(r.Context(), engine.InvokeRequest{Name: name, Payload: payload, Timeout: timeout, Trigger: faastype.TriggerAPI})
	s.release(eng.Owner)
	if job.ID != "" {
		s.observe(job, err)
		if err == nil {
			s.metricsOf(eng.Owner).overhead.observe(max(time.Since(start)-job.Duration, 0))
		}
		jobHeaders(w.Header(), job)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if job.Cause == faastype.CauseLost {
		// Its worker went silent mid-run: a gateway's failure, not the
		// function's answer (docs/cluster.md).
		writeJSON(w, http.StatusBadGateway, api.Error{Error: job.Error, Kind: "platform",
			Hint: "see `faas jobs show " + job.ID + "`; retry if the function is safe to run twice"})
		return
	}
	if wantsJob(r) {
		writeJSON(w, http.StatusOK, api.NewJob(job, true))
		return
	}
	// A function's failure is the job's, not the request's: 200 with its
	// status in X-Faas-Status (and the error in X-Faas-Error), as Lambda.
	if job.Status != store.StatusCompleted {
		w.Header().Set("X-Faas-Error", oneLine(job.Error))
	}
	if json.Valid(job.Result) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(job.Result)
}

// wantsJob says whether the caller asked for the whole job record rather
// than the bare result.
func wantsJob(r *http.Request) bool {
	return r.URL.Query().Get("output") == "job"
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}

// jobHeaders say how a synchronous call's job went.
func jobHeaders(h http.Header, job store.Job) {
	h.Set("X-Faas-Job-Id", job.ID)
	h.Set("X-Faas-Status", job.Status)
	if job.Cause != faastype.CauseNone {
		// Whose failure it is, typed: a client decides on this, never
		// on the error's text.
		h.Set("X-Faas-Cause", string(job.Cause))
	}
	h.Set("X-Faas-Version", strconv.Itoa(job.Version))
	h.Set("X-Faas-Start", map[bool]string{true: "cold", false: "warm"}[job.Cold])
	h.Set("X-Faas-Duration-Ms", strconv.FormatFloat(float64(job.Duration.Microseconds())/1000, 'f', 3, 64))
	if job.ExitCode != nil {
		h.Set("X-Faas-Exit-Code", strconv.Itoa(*job.ExitCode))
	}
}
