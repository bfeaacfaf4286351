package server

import (
	"encoding/json"
	"net/http"

	"github.com/faasdev/faas/pkg/api"
)

// fail answers an error; reading a body goes through bodyErr first.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code, body := api.NewError(err)
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
