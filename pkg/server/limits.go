package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// BodyLimit is the largest request body, as Lambda's synchronous payload.
const BodyLimit = 6 << 20

// DeployLimit is the largest deploy (POST /v1/functions): a function's
// code, one file or a directory's tar, of at most 50 MiB (Lambda's direct
// upload), as multipart or as JSON with the code in base64.
const DeployLimit = 50<<20*4/3 + 1<<20

// bodyLimit is the largest body of a request.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (r.URL.Path == "/v1/functions" || r.URL.Path == "/ui/functions") {
		return DeployLimit
	}
	return BodyLimit
}

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
		return fault.Newf(fault.TooLarge, "request body is over the %d MiB limit", mbe.Limit>>20)
	}
	return fault.Usagef("%s: %v", what, err)
}
