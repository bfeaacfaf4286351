package server

import (
	"io"
	"net/http"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
)

// putSecret sets one of the caller's secrets: the body is the value,
// as it is (no JSON, no base64). The answer never carries it.
func (s *Server) putSecret(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	value, err := io.ReadAll(io.LimitReader(r.Body, function.MaxSecretBytes+1))
	if err != nil {
		s.fail(w, bodyErr(err, "read the secret"))
		return
	}
	name := r.PathValue("name")
	created, err := eng.SetSecret(r.Context(), name, value)
	if err != nil {
		s.fail(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, api.SecretSet{Name: name, Created: created})
}

func (s *Server) listSecrets(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	secs, err := eng.ListSecrets(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]api.Secret, len(secs))
	for i, sec := range secs {
		out[i] = api.NewSecret(sec)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) removeSecret(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	name := r.PathValue("name")
	used, err := eng.RemoveSecret(r.Context(), name)
	if err != nil {
		s.fail(w, err)
		return
	}
	if used == nil {
		used = []string{}
	}
	writeJSON(w, http.StatusOK, api.SecretRemoved{Name: name, UsedBy: used})
}
