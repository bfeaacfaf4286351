package server

import (
	"net/http"

	"github.com/faasdev/faas/pkg/engine"
)

func (s *Server) top(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	snap, err := eng.Snapshot(r.Context(), nil)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}
