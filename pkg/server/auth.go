package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
)

// TokensTTL is how long a server trusts the tokens it read: a token
// revoked anywhere is refused at most this long after.
const TokensTTL = time.Second

type tokenEntry struct {
	hash  [32]byte
	owner string
}

// HashToken is how a token is kept: its SHA-256, in hex.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// owner finds the owner of a token. Every known token is compared, in
// constant time, whatever matches: the time taken says nothing of how
// close a guess came.
func (s *Server) owner(ctx context.Context, token string) (string, bool) {
	if token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	// `faas serve token create|revoke` touch a stamp file: a changed stamp
	// reloads the tokens before this request is judged. Another home's
	// faas (a server on another host of a shared database) touches its own:
	// tokens older than TokensTTL are read again.
	stamp := faashome.Changed(faashome.TokensStamp(s.eng.Home))
	for attempt := 0; attempt < 2; attempt++ {
		s.tokensMu.Lock()
		stale := s.tokensLoaded.IsZero() || !stamp.Equal(s.tokensStamp) || time.Since(s.tokensLoaded) > TokensTTL
		if stale || attempt == 1 {
			// An unknown token reloads at most every 250 ms.
			if attempt == 0 || time.Since(s.tokensLoaded) > 250*time.Millisecond {
				if ts, err := s.eng.Tokens(ctx); err == nil {
					s.tokens = s.tokens[:0]
					for _, t := range ts {
						var e tokenEntry
						if b, err := hex.DecodeString(t.Hash); err == nil && len(b) == 32 {
							copy(e.hash[:], b)
							e.owner = t.Name
							s.tokens = append(s.tokens, e)
						}
					}
					s.tokensLoaded, s.tokensStamp = time.Now(), stamp
				}
			}
		}
		owner, found := "", 0
		for _, e := range s.tokens {
			eq := subtle.ConstantTimeCompare(e.hash[:], sum[:])
			if eq == 1 {
				owner = e.owner
			}
			found |= eq
		}
		s.tokensMu.Unlock()
		if found == 1 {
			return owner, true
		}
	}
	return "", false
}

type ownedHandler func(w http.ResponseWriter, r *http.Request, eng *engine.Engine)

// bearer is the owner of the request's bearer token, if it has a known one.
func (s *Server) bearer(r *http.Request) (string, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return s.owner(r.Context(), strings.TrimSpace(token))
}

// auth gives h the token's owner's view of the engine, or answers 401.
// Under --dev there are no tokens: every request is the local user's, who
// sees everything, as the command line on the host does.
func (s *Server) auth(h ownedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.Dev {
			h(w, r, s.eng)
			return
		}
		owner, known := s.bearer(r)
		if !known {
			w.Header().Set("WWW-Authenticate", `Bearer realm="faas"`)
			s.fail(w, fault.WithHint(fault.Newf(fault.Unauthorized, "missing or unknown API token"),
				"send Authorization: Bearer TOKEN; an admin makes one with `faas serve token create NAME`"))
			return
		}
		if strings.HasPrefix(owner, WorkerPrefix) {
			s.fail(w, fault.WithHint(fault.Newf(fault.Unauthorized, "a worker token cannot act as an owner"),
				"use an owner's token (`faas serve token create NAME`)"))
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.owner = owner
		}
		h(w, r, s.eng.As(owner))
	}
}
