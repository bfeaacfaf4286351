// Package server is `faas serve`: the engine over HTTP and JSON, for a team
// sharing one host. Every request but /healthz needs a bearer token; each
// token's owner sees only its own functions, jobs and bill. It runs the
// async queue too. docs/serve.md is its reference.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/dispatcher"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/store"
)

// Options configure a server.
type Options struct {
	Engine *engine.Engine
	// PerOwner is how many synchronous invokes one owner may have in
	// flight; more get 429 with Retry-After.
	PerOwner int
	// Workers is how many queued jobs run at once.
	Workers int
	// Log hears one line per request and per queued job, with its job_id
	// (may be nil).
	Log *slog.Logger
	// Dev serves the local user without tokens (faas serve --dev, on
	// loopback only): every function, and the API as the command line.
	Dev bool
	// Cluster is the server's cluster of workers (its placer), if any.
	Cluster Cluster
}

// Server serves the API.
type Server struct {
	o   Options
	eng *engine.Engine
	mux *http.ServeMux
	// metrics are each owner's: a scrape shows the scraper's own calls.
	metrics sync.Map // owner → *metrics
	wake    chan struct{}

	stopping     chan struct{}
	stopOnce     sync.Once
	inflightMu   sync.Mutex
	inflight     map[string]int
	tokensMu     sync.Mutex
	tokens       []tokenEntry
	tokensLoaded time.Time
	tokensStamp  time.Time
}

// New returns a server over o.Engine.
func New(o Options) *Server {
	if o.PerOwner <= 0 {
		o.PerOwner = 64
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Log == nil {
		o.Log = logging.Discard()
	}
	s := &Server{o: o, eng: o.Engine, wake: make(chan struct{}, 1),
		stopping: make(chan struct{}), inflight: map[string]int{}}
	s.mux = s.routes()
	return s
}

// Handler is the API's handler, for tests and for Serve.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		if limit := bodyLimit(r); r.ContentLength > limit {
			s.fail(rec, fault.Newf(fault.TooLarge, "request body is %d bytes, over the %d MiB limit", r.ContentLength, limit>>20))
		} else {
			r.Body = http.MaxBytesReader(rec, r.Body, limit)
			s.mux.ServeHTTP(rec, r)
		}
		if rec.owner != "" { // unauthenticated requests are nobody's
			s.metricsOf(rec.owner).requests.inc(strconv.Itoa(rec.code))
		}
		if s.o.Log.Enabled(r.Context(), slog.LevelInfo) {
			s.logRequest(r, rec, start)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
	// owner is the caller, once its token is known.
	owner string
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Serve serves on ln and runs the queue until ctx ends; then it stops
// taking requests and jobs, and returns once the requests and jobs in
// progress have finished.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan error, 1)
	// Jobs queued by other processes: announced by the database where it
	// can (PostgreSQL), with a slow poll as a safety net; otherwise polled.
	poll := 250 * time.Millisecond
	if s.eng.ListenQueue(dctx, s.wakeDispatcher) {
		poll = 5 * time.Second
	}
	go func() {
		dispatched <- dispatcher.Run(dctx, s.eng, dispatcher.Options{Workers: s.o.Workers, Wake: s.wake, Poll: poll,
			Log: s.o.Log.With("component", "dispatcher"), Done: s.observe})
	}()
	scheduled := make(chan error, 1)
	go func() { scheduled <- s.runSchedules(dctx) }()
	served := make(chan error, 1)
	go func() {
		if certFile != "" {
			served <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		s.stopOnce.Do(func() { close(s.stopping) })
		err = hs.Shutdown(context.Background())
	}
	stopDispatch()
	derr := errors.Join(<-dispatched, <-scheduled)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, derr)
}

// observe counts an ended job in the metrics.
func (s *Server) observe(j store.Job, err error) {
	status := j.Status
	if err != nil || j.Cause == faastype.CausePlatform {
		status = "platform"
	}
	m := s.metricsOf(j.Owner)
	m.invocations.inc(status)
	if j.Cold {
		m.coldStarts.Add(1)
	}
	if j.Duration > 0 {
		m.duration.observe(j.Duration)
	}
}

// metricsOf returns owner's metrics, made on first use.
func (s *Server) metricsOf(owner string) *metrics {
	if m, ok := s.metrics.Load(owner); ok {
		return m.(*metrics)
	}
	m, _ := s.metrics.LoadOrStore(owner, newMetrics())
	return m.(*metrics)
}
