package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
)

func (s *Server) jobLogs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	s.logs(w, r, eng, engine.LogsRequest{JobID: r.PathValue("id")})
}

func (s *Server) functionLogs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	if q.Get("follow") == "true" || q.Get("follow") == "1" {
		s.followLogs(w, r, eng)
		return
	}
	req := engine.LogsRequest{Function: r.PathValue("name"), JobID: q.Get("job")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(w, fault.Usagef("since=%s: use an RFC 3339 time", v))
			return
		}
		req.Since = t
	}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("tail=%s: use a whole number", v))
			return
		}
		req.Tail = n
	}
	s.logs(w, r, eng, req)
}

// logs answers NDJSON, one line per log line, as `faas logs -o json`.
func (s *Server) logs(w http.ResponseWriter, r *http.Request, eng *engine.Engine, req engine.LogsRequest) {
	lines, err := eng.Logs(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		_ = enc.Encode(l)
	}
}
