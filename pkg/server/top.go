package server

import (
	"net/http"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
)

func (s *Server) top(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	// The caller looks, as `faas top` does locally: sample, then summarise.
	snap, err := eng.Top(r.Context(), nil)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewTop(snap))
}
