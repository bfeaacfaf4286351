// Package server is `faas serve`: the engine over HTTP and JSON, for a team
// sharing one host. Every request but /healthz needs a bearer token; each
// token's owner sees only its own functions, jobs and bill. It runs the
// async queue too. docs/serve.md is its reference.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// BodyLimit is the largest request body, as Lambda's synchronous payload.
const BodyLimit = 6 << 20

// MaxWait bounds a long poll (?wait=).
const MaxWait = 60 * time.Second

// Options configure a server.
type Options struct {
	Engine *engine.Engine
	// PerOwner is how many synchronous invokes one owner may have in
	// flight; more get 429 with Retry-After.
	PerOwner int
	// Workers is how many queued jobs run at once.
	Workers int
	// Log receives one line per request and per queued job (may be nil).
	Log io.Writer
}

// Server serves the API.
type Server struct {
	o       Options
	eng     *engine.Engine
	mux     *http.ServeMux
	metrics *metrics
	wake    chan struct{}

	stopping     chan struct{}
	stopOnce     sync.Once
	inflightAll  atomic.Int64
	inflightMu   sync.Mutex
	inflight     map[string]int
	tokensMu     sync.Mutex
	tokens       []tokenEntry
	tokensLoaded time.Time
	tokensStamp  time.Time
}

type tokenEntry struct {
	hash  [32]byte
	owner string
}

// New returns a server over o.Engine.
func New(o Options) *Server {
	if o.PerOwner <= 0 {
		o.PerOwner = 64
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	s := &Server{o: o, eng: o.Engine, metrics: newMetrics(), wake: make(chan struct{}, 1),
		stopping: make(chan struct{}), inflight: map[string]int{}}
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
	m.HandleFunc("GET /v1/jobs", s.auth(s.listJobs))
	m.HandleFunc("GET /v1/jobs/{id}", s.auth(s.getJob))
	m.HandleFunc("GET /v1/jobs/{id}/logs", s.auth(s.jobLogs))
	m.HandleFunc("GET /v1/bill", s.auth(s.bill))
	m.HandleFunc("GET /v1/top", s.auth(s.top))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, fault.WithHint(fault.NotFoundf("no such endpoint: %s %s", r.Method, r.URL.Path), "see docs/serve.md for the API"))
	})
	s.mux = m
	return s
}

// Handler is the API's handler, for tests and for Serve.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		if r.ContentLength > BodyLimit {
			s.fail(rec, fault.Newf(fault.TooLarge, "request body is %d bytes, over the %d MiB limit", r.ContentLength, BodyLimit>>20))
		} else {
			r.Body = http.MaxBytesReader(rec, r.Body, BodyLimit)
			s.mux.ServeHTTP(rec, r)
		}
		s.metrics.requests.inc(strconv.Itoa(rec.code))
		if s.o.Log != nil {
			fmt.Fprintf(s.o.Log, "%s %s %s %d %.3fms\n", start.UTC().Format(time.RFC3339Nano), r.Method, r.URL.Path, rec.code,
				float64(time.Since(start).Microseconds())/1000)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
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
	go func() {
		dispatched <- s.eng.Dispatch(dctx, engine.DispatchOptions{Workers: s.o.Workers, Wake: s.wake, Poll: 250 * time.Millisecond,
			Log: s.o.Log, Done: s.observe})
	}()
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
	derr := <-dispatched
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, derr)
}

// observe counts an ended job in the metrics.
func (s *Server) observe(j store.Job, err error) {
	status := j.Status
	if err != nil || strings.HasPrefix(j.Error, engine.PlatformErrorPrefix) {
		status = "platform"
	}
	s.metrics.invocations.inc(status)
	if j.Cold {
		s.metrics.coldStarts.Add(1)
	}
	if j.Duration > 0 {
		s.metrics.duration.observe(j.Duration)
	}
}

// --- authentication and limits ---

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
	// reloads the tokens before this request is judged.
	var stamp time.Time
	if fi, err := os.Stat(faashome.TokensStamp(s.eng.Home)); err == nil {
		stamp = fi.ModTime()
	}
	for attempt := 0; attempt < 2; attempt++ {
		s.tokensMu.Lock()
		if s.tokensLoaded.IsZero() || !stamp.Equal(s.tokensStamp) || attempt == 1 {
			// An unknown token reloads at most every 250 ms.
			if attempt == 0 || time.Since(s.tokensLoaded) > 250*time.Millisecond {
				if ts, err := s.eng.Store.Tokens(ctx); err == nil {
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

func (s *Server) auth(h ownedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		owner, known := "", false
		if strings.EqualFold(scheme, "Bearer") {
			owner, known = s.owner(r.Context(), strings.TrimSpace(token))
		}
		if !known {
			w.Header().Set("WWW-Authenticate", `Bearer realm="faas"`)
			s.fail(w, fault.WithHint(fault.Newf(fault.Unauthorized, "missing or unknown API token"),
				"send Authorization: Bearer TOKEN; an admin makes one with `faas serve token create NAME`"))
			return
		}
		h(w, r, s.eng.As(owner))
	}
}

// acquire takes one of owner's in-flight slots.
func (s *Server) acquire(owner string) bool {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if s.inflight[owner] >= s.o.PerOwner {
		return false
	}
	s.inflight[owner]++
	s.inflightAll.Add(1)
	return true
}

func (s *Server) release(owner string) {
	s.inflightMu.Lock()
	s.inflight[owner]--
	if s.inflight[owner] == 0 {
		delete(s.inflight, owner)
	}
	s.inflightMu.Unlock()
	s.inflightAll.Add(-1)
}

// --- responses ---

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

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request, _ *engine.Engine) {
	waiting, _ := s.eng.Store.CountWaiting(r.Context())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.metrics.write(w, waiting, s.inflightAll.Load())
}

// --- functions ---

func (s *Server) deploy(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	req, err := readDeploy(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := eng.Deploy(r.Context(), req.Engine())
	if err != nil {
		s.fail(w, err)
		return
	}
	fn, err := eng.Function(r.Context(), res.Function)
	if err != nil {
		s.fail(w, err)
		return
	}
	code := http.StatusOK
	if res.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, api.Deployed{Function: api.NewFunction(fn), Created: res.Created, Notice: res.Notice})
}

// readDeploy reads a deploy as JSON (code in base64) or as a multipart
// form: the file in the part "file", the rest in the part "request" (the
// same JSON without code) or as fields name, runtime, mode, provider.
func readDeploy(r *http.Request) (api.DeployRequest, error) {
	// Keys left out take the same defaults as `faas deploy`'s flags.
	req := api.DeployRequest{Config: function.DefaultConfig()}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "":
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, bodyErr(err, "read the deploy request")
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(BodyLimit); err != nil {
			return req, bodyErr(err, "read the deploy form")
		}
		if v := r.FormValue("request"); v != "" {
			if err := json.Unmarshal([]byte(v), &req); err != nil {
				return req, fault.Usagef("the deploy form's request part: %v", err)
			}
		}
		for k, p := range map[string]*string{"name": &req.Name, "runtime": &req.Runtime, "mode": &req.Mode, "provider": &req.Provider} {
			if v := r.FormValue(k); v != "" {
				*p = v
			}
		}
		f, h, err := r.FormFile("file")
		if err != nil {
			return req, fault.Usagef("the deploy form has no file part: %v", err)
		}
		defer f.Close()
		if req.Code, err = io.ReadAll(f); err != nil {
			return req, bodyErr(err, "read the deployed file")
		}
		if req.Filename == "" {
			req.Filename = h.Filename
		}
	default:
		return req, fault.Usagef("unsupported Content-Type %q: send application/json or multipart/form-data", ct)
	}
	if req.Filename == "" {
		return req, fault.Usagef("the deploy request names no filename: it decides the runtime and, without a name, the function's name")
	}
	return req, nil
}

func bodyErr(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fault.Newf(fault.TooLarge, "request body is over the %d MiB limit", BodyLimit>>20)
	}
	return fault.Usagef("%s: %v", what, err)
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	fns, err := eng.Functions(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]api.Function, 0, len(fns))
	for _, f := range fns {
		out = append(out, api.NewFunction(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	fn, err := eng.Function(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewFunction(fn))
}

func (s *Server) removeFunction(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	if err := eng.Remove(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	to := 0
	if v := r.URL.Query().Get("to"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("to=%s: use a version number", v))
			return
		}
		to = n
	}
	from, now, err := eng.Rollback(r.Context(), r.PathValue("name"), to)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RolledBack{From: from, Version: now})
}

// --- invocations ---

func (s *Server) invoke(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	start := time.Now()
	q := r.URL.Query()
	var timeout time.Duration
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			s.fail(w, fault.Usagef("timeout=%s: use a positive duration such as 30s", v))
			return
		}
		timeout = d
	}
	async := q.Get("async") == "true" || q.Get("async") == "1" || r.Header.Get("X-Faas-Invocation-Type") == "async"
	retries := 0
	if v := q.Get("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("retries=%s: use a whole number from 0 to %d", v, engine.MaxRetries))
			return
		}
		retries = n
	}
	if retries > 0 && !async {
		s.fail(w, fault.Usagef("retries apply to async invokes only: add async=true"))
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, bodyErr(err, "read the payload"))
		return
	}
	name := r.PathValue("name")
	if async {
		job, err := eng.Submit(r.Context(), engine.SubmitRequest{Name: name, Payload: payload, Timeout: timeout, Retries: retries})
		if err != nil {
			s.fail(w, err)
			return
		}
		s.metrics.async.Add(1)
		select {
		case s.wake <- struct{}{}:
		default:
		}
		w.Header().Set("Location", "/v1/jobs/"+job.ID)
		w.Header().Set("X-Faas-Job-Id", job.ID)
		writeJSON(w, http.StatusAccepted, api.Queued{JobID: job.ID, Status: job.Status})
		return
	}
	if !s.acquire(eng.Owner) {
		s.metrics.throttled.Add(1)
		s.fail(w, fault.WithHint(fault.Newf(fault.Busy, "too many invocations in flight for %q (limit %d)", eng.Owner, s.o.PerOwner),
			"retry after a second, or use async=true to queue"))
		return
	}
	job, err := eng.Invoke(r.Context(), engine.InvokeRequest{Name: name, Payload: payload, Timeout: timeout})
	s.release(eng.Owner)
	if job.ID != "" {
		s.observe(job, err)
		if err == nil {
			s.metrics.overhead.observe(max(time.Since(start)-job.Duration, 0))
		}
		h := w.Header()
		h.Set("X-Faas-Job-Id", job.ID)
		h.Set("X-Faas-Status", job.Status)
		h.Set("X-Faas-Version", strconv.Itoa(job.Version))
		h.Set("X-Faas-Start", map[bool]string{true: "cold", false: "warm"}[job.Cold])
		h.Set("X-Faas-Duration-Ms", strconv.FormatFloat(float64(job.Duration.Microseconds())/1000, 'f', 3, 64))
		if job.ExitCode != nil {
			h.Set("X-Faas-Exit-Code", strconv.Itoa(*job.ExitCode))
		}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if wantsJob(r) {
		writeJSON(w, http.StatusOK, api.NewJob(job, true))
		return
	}
	// A function's failure is the job's, not the request's: 200 with its
	// status in X-Faas-Status (and the error in X-Faas-Error), as Lambda.
	if job.Status != store.StatusCompleted {
		w.Header().Set("X-Faas-Error", oneLine(job.Error))
	}
	if json.Valid(job.Result) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(job.Result)
}

// wantsJob says whether the caller asked for the whole job record rather
// than the bare result.
func wantsJob(r *http.Request) bool {
	return r.URL.Query().Get("output") == "job"
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}

// --- jobs ---

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	f := store.JobFilter{Function: q.Get("function"), Status: q.Get("status"), Limit: 20}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("limit=%s: use a whole number", v))
			return
		}
		f.Limit = n
	}
	jobs, err := eng.Jobs(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]api.Job, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, api.NewJob(j, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	id := r.PathValue("id")
	var j store.Job
	var err error
	if v := r.URL.Query().Get("wait"); v != "" {
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 {
			s.fail(w, fault.Usagef("wait=%s: use a positive duration such as 30s", v))
			return
		}
		// A long poll ends early when the server is stopping.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		j, err = eng.WaitJob(ctx, id, min(d, MaxWait))
		if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
			j, err = eng.Job(r.Context(), id)
		}
	} else {
		j, err = eng.Job(r.Context(), id)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewJob(j, true))
}

func (s *Server) jobLogs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	s.logs(w, r, eng, engine.LogsRequest{JobID: r.PathValue("id")})
}

func (s *Server) functionLogs(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	req := engine.LogsRequest{Function: r.PathValue("name"), JobID: q.Get("job")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(w, fault.Usagef("since=%s: use an RFC 3339 time", v))
			return
		}
		req.Since = t
	}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("tail=%s: use a whole number", v))
			return
		}
		req.Tail = n
	}
	s.logs(w, r, eng, req)
}

// logs answers NDJSON, one line per log line, as `faas logs -o json`.
func (s *Server) logs(w http.ResponseWriter, r *http.Request, eng *engine.Engine, req engine.LogsRequest) {
	lines, err := eng.Logs(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		_ = enc.Encode(l)
	}
}

// --- bill and top ---

func (s *Server) bill(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	q := r.URL.Query()
	b, err := eng.Bill(r.Context(), engine.BillRequest{Month: q.Get("month"), Function: q.Get("function")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewBill(b))
}

func (s *Server) top(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	snap, err := eng.Snapshot(r.Context(), nil)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}
