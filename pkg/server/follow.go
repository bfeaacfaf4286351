package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// followLogs streams the lines an owner's function prints from ?since=
// (default now) on, as NDJSON, one line per log line as `faas logs -f -o
// json` prints it, flushed as each is written, until the client goes or
// the server stops.
func (s *Server) followLogs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	name := r.PathValue("name")
	since := time.Now()
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(w, fault.Usagef("since=%s: use an RFC 3339 time", v))
			return
		}
		since = t
	}
	if _, err := eng.Function(r.Context(), name); err != nil {
		s.fail(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = eng.FollowLogs(ctx, name, since, func(l faastype.LogLine) {
		if enc.Encode(l) != nil {
			cancel() // the client went
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	})
}
