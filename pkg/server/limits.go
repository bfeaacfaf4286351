package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// BodyLimit is the largest request body, as Lambda's synchronous payload.
const BodyLimit = 6 << 20

// MaxWait bounds a long poll (?wait=).
const MaxWait = 60 * time.Second

// acquire takes one of owner's in-flight slots.
func (s *Server) acquire(owner string) bool {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if s.inflight[owner] >= s.o.PerOwner {
		return false
	}
	s.inflight[owner]++
	return true
}

func (s *Server) release(owner string) {
	s.inflightMu.Lock()
	s.inflight[owner]--
	if s.inflight[owner] == 0 {
		delete(s.inflight, owner)
	}
	s.inflightMu.Unlock()
}

func bodyErr(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fault.Newf(fault.TooLarge, "request body is over the %d MiB limit", BodyLimit>>20)
	}
	return fault.Usagef("%s: %v", what, err)
}
