package server

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/faasdev/faas/pkg/cluster"
	"github.com/faasdev/faas/pkg/fault"
)

// WorkerPrefix marks a worker's token: its name is "worker:NAME". Owner
// names cannot hold a colon, so no owner is ever a worker.
const WorkerPrefix = "worker:"

// Cluster is what the server says of its cluster.
type Cluster struct {
	Placer *cluster.Placer
	// NATS is the URL workers on other hosts connect to ("" when the
	// embedded server does not listen and no external one is used).
	NATS string
}

// worker authenticates a worker's token; anything else is refused.
func (s *Server) worker(h func(w http.ResponseWriter, r *http.Request, name string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, known := s.bearer(r)
		name, isWorker := strings.CutPrefix(owner, WorkerPrefix)
		if !known || !isWorker {
			w.Header().Set("WWW-Authenticate", `Bearer realm="faas"`)
			s.fail(w, fault.WithHint(fault.Newf(fault.Unauthorized, "this endpoint is for workers: missing or unknown worker token"),
				"make one with `faas serve token create --worker NAME` on the server"))
			return
		}
		h(w, r, name)
	}
}

// clusterInfo tells a worker where NATS is.
func (s *Server) clusterInfo(w http.ResponseWriter, r *http.Request, name string) {
	writeJSON(w, http.StatusOK, map[string]string{"nats": s.o.Cluster.NATS, "worker": name})
}

// clusterCode serves a version's code to a worker, whoever owns it.
func (s *Server) clusterCode(w http.ResponseWriter, r *http.Request, _ string) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		s.fail(w, fault.Usagef("version %q is not a number", r.PathValue("version")))
		return
	}
	v, err := s.eng.VersionCode(r.Context(), r.PathValue("name"), n)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Faas-Sha256", v.SHA256)
	_, _ = w.Write(v.Code)
}

// clusterEnv serves a built dependency environment to a worker, as a tar.
func (s *Server) clusterEnv(w http.ResponseWriter, r *http.Request, _ string) {
	var buf bytes.Buffer
	if err := cluster.WriteEnv(&buf, s.eng.Home, r.PathValue("key")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.fail(w, fault.NotFoundf("no environment %q on the server", r.PathValue("key")))
			return
		}
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	_, _ = w.Write(buf.Bytes())
}

// listWorkers lists the cluster's workers, this host first.
func (s *Server) listWorkers(w http.ResponseWriter, r *http.Request) {
	if !s.o.Dev {
		owner, known := s.bearer(r)
		if !known || strings.HasPrefix(owner, WorkerPrefix) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="faas"`)
			s.fail(w, fault.Newf(fault.Unauthorized, "missing or unknown API token"))
			return
		}
	}
	if s.o.Cluster.Placer == nil {
		writeJSON(w, http.StatusOK, []cluster.Status{})
		return
	}
	writeJSON(w, http.StatusOK, s.o.Cluster.Placer.Workers())
}
