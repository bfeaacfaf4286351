package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/logging"
)

// logRequest writes a request's line: what was asked, the answer, how
// long it took, whose it was and, for an invoke, its job.
func (s *Server) logRequest(r *http.Request, rec *statusRecorder, start time.Time) {
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("code", rec.code),
		slog.Float64("ms", float64(time.Since(start).Microseconds())/1000)}
	if rec.owner != "" {
		attrs = append(attrs, slog.String("owner", rec.owner))
	}
	if id := rec.Header().Get("X-Faas-Job-Id"); id != "" {
		attrs = append(attrs, slog.String(logging.JobID, id))
	}
	s.o.Log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}
