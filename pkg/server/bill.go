package server

import (
	"net/http"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
)

func (s *Server) bill(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	b, err := eng.Bill(r.Context(), engine.BillRequest{Month: q.Get("month"), Function: q.Get("function")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewBill(b))
}
