package server

import (
	"net/http"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
)

// routes is the API's mux: which method and path go to which handler.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /metrics", s.auth(s.getMetrics))
	m.HandleFunc("POST /v1/functions", s.auth(s.deploy))
	m.HandleFunc("GET /v1/functions", s.auth(s.listFunctions))
	m.HandleFunc("GET /v1/functions/{name}", s.auth(s.getFunction))
	m.HandleFunc("DELETE /v1/functions/{name}", s.auth(s.removeFunction))
	m.HandleFunc("POST /v1/functions/{name}/invoke", s.auth(s.invoke))
	m.HandleFunc("POST /v1/functions/{name}/rollback", s.auth(s.rollback))
	m.HandleFunc("GET /v1/functions/{name}/logs", s.auth(s.functionLogs))
	m.HandleFunc("GET /v1/functions/{name}/versions", s.auth(s.listVersions))
	m.HandleFunc("GET /v1/functions/{name}/build-log", s.auth(s.buildLog))
	m.HandleFunc("GET /v1/functions/{name}/versions/{version}/code", s.auth(s.versionCode))
	m.HandleFunc("GET /v1/jobs", s.auth(s.listJobs))
	m.HandleFunc("GET /v1/jobs/{id}", s.auth(s.getJob))
	m.HandleFunc("GET /v1/jobs/{id}/logs", s.auth(s.jobLogs))
	m.HandleFunc("GET /v1/secrets", s.auth(s.listSecrets))
	m.HandleFunc("PUT /v1/secrets/{name}", s.auth(s.putSecret))
	m.HandleFunc("DELETE /v1/secrets/{name}", s.auth(s.removeSecret))
	m.HandleFunc("GET /v1/bill", s.auth(s.bill))
	m.HandleFunc("GET /v1/top", s.auth(s.top))
	m.HandleFunc("GET /v1/workers", s.listWorkers)
	m.HandleFunc("GET /v1/cluster", s.worker(s.clusterInfo))
	m.HandleFunc("GET /v1/cluster/code/{name}/{version}", s.worker(s.clusterCode))
	m.HandleFunc("GET /v1/cluster/envs/{key}", s.worker(s.clusterEnv))
	m.HandleFunc("/fn/{name}", s.httpFunction)
	m.HandleFunc("/fn/{name}/{path...}", s.httpFunction)
	ui := s.dashboard()
	m.Handle("GET /{$}", ui)
	m.Handle("/ui/", ui)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, fault.WithHint(fault.NotFoundf("no such endpoint: %s %s", r.Method, r.URL.Path), "see docs/serve.md for the API"))
	})
	return m
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// getMetrics shows the scraper's own metrics: its calls, its jobs, its
// in-flight invokes. The queue's depth is the server's (all owners').
func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	waiting, _ := s.eng.QueueDepth(r.Context())
	s.inflightMu.Lock()
	inflight := s.inflight[eng.Owner]
	s.inflightMu.Unlock()
	s.metricsOf(eng.Owner).handler(waiting, int64(inflight)).ServeHTTP(w, r)
}
