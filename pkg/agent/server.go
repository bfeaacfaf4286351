package agent

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/sandbox"
)

// DefaultIdle is how long an agent waits without invocations before it
// exits, unless pinned (OpenFaaS scales to zero after 15 min, Fission after
// 2, Fn after 30 s; five minutes keeps a developer's loop warm).
const DefaultIdle = 5 * time.Minute

// shedIdle is how long an agent waits without invocations before it sheds
// its start-up memory: the next call faults back in what it runs (tens of
// microseconds), well under a warm call's cost.
const shedIdle = time.Second

// maxRequest bounds a request body: the payload limit, base64-encoded, and
// the rest of the request.
const maxRequest = 9<<20 + 64<<10

// Config is how an agent is started.
type Config struct {
	Instance string
	Function string
	Home     string
	// Socket is a unix socket path; Addr a TCP address (with Token).
	Socket string
	Addr   string
	Token  string
	Idle   time.Duration
	// Pinned agents never exit when idle (min_instances > 0).
	Pinned bool
	// InitTimeout bounds a warm worker's start-up (0: DefaultInitTimeout):
	// a VM under emulation needs longer.
	InitTimeout time.Duration
}

// Server is a running agent.
type Server struct {
	cfg     Config
	host    *host
	started time.Time
	log     *slog.Logger
	ids     func() string
	hub     *hub

	mu      sync.Mutex
	pools   map[string]*pool
	scripts map[string]chan struct{}
	current string

	inFlight   atomic.Int64
	invoked    atomic.Int64
	errors     atomic.Int64
	coldStarts atomic.Int64
	lastActive atomic.Int64

	// ident is who the agent is, socket where it listens: a spare (spare,
	// set by StartSpare) becomes an instance when it is claimed.
	ident  atomic.Pointer[identity]
	socket atomic.Pointer[string]
	spare  *stem
	// keep spawns the spares the home lacks (KeepSpares).
	keep func()
	// OnBecome, when set, is called (in its own goroutine) with the
	// agent's config once a spare has become an instance.
	OnBecome func(Config)
}

// New prepares an agent; Serve runs it.
func New(cfg Config, logw io.Writer) (*Server, error) {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	sb, err := sandbox.New(cfg.Home)
	if err != nil {
		return nil, err
	}
	hub := newHub(cfg.Instance, cfg.Function)
	s := &Server{
		cfg: cfg, host: &host{home: cfg.Home, sb: sb, interp: interp.New(cfg.Home), logs: hub, uid: sandbox.UIDFor(cfg.Instance), share: jailShare(), initTimeout: cfg.InitTimeout}, started: time.Now(), ids: workerIDs(cfg.Instance), hub: hub,
		log:   logging.FromEnv(logw).With("component", "agent", "instance", cfg.Instance),
		pools: map[string]*pool{}, scripts: map[string]chan struct{}{},
	}
	s.host.logf = func(format string, args ...any) { s.log.Warn(fmt.Sprintf(format, args...)) }
	s.ident.Store(&identity{instance: cfg.Instance, function: cfg.Function, token: cfg.Token, pinned: cfg.Pinned})
	s.socket.Store(&cfg.Socket)
	s.lastActive.Store(time.Now().UnixNano())
	return s, nil
}

// Listen opens the agent's socket: a unix socket (0600, a stale one from a
// dead agent replaced) or a TCP address.
func (s *Server) Listen() (net.Listener, error) {
	if s.cfg.Socket == "" {
		if s.cfg.Token == "" {
			return nil, errors.New("a TCP agent needs a token")
		}
		return net.Listen("tcp", s.cfg.Addr)
	}
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	l, err := net.Listen("unix", s.cfg.Socket)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) {
		if c, derr := net.DialTimeout("unix", s.cfg.Socket, time.Second); derr == nil {
			c.Close()
			return nil, fmt.Errorf("another agent answers on %s", s.cfg.Socket)
		}
		os.Remove(s.cfg.Socket)
		l, err = net.Listen("unix", s.cfg.Socket)
	}
	if l, ok := l.(*net.UnixListener); ok {
		l.SetUnlinkOnClose(true)
	}
	return l, err
}

// Serve answers requests on l until ctx ends or the agent has been idle for
// its idle time; then it finishes what is in flight and stops its workers.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", s.auth(s.handleInvoke))
	mux.HandleFunc("GET /healthz", s.auth(s.handleHealth))
	mux.HandleFunc("GET /stats", s.auth(s.handleStats))
	mux.HandleFunc("GET /logs", s.auth(s.handleLogs))
	mux.HandleFunc("POST /become", s.auth(s.handleBecome))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.log.Info("serving", "function", s.cfg.Function, "addr", l.Addr().String(), "idle", s.cfg.Idle.String(), "pinned", s.cfg.Pinned, "sandbox", s.host.sb.Sandbox.Kind)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()

	tick := time.NewTicker(min(time.Second, s.cfg.Idle/4+time.Millisecond))
	defer tick.Stop()
	reason := ""
	var shedAt int64 // lastActive when the agent last shed
	for reason == "" {
		select {
		case <-ctx.Done():
			reason = "asked to stop"
		case err := <-served:
			s.shutdownPools()
			s.endSpare()
			return err
		case <-tick.C:
			last := s.lastActive.Load()
			idle := time.Since(time.Unix(0, last))
			if !s.ident.Load().pinned && s.inFlight.Load() == 0 && idle >= s.cfg.Idle && s.spareMayExit() {
				reason = fmt.Sprintf("idle for %s", idle.Round(time.Millisecond))
			}
			if s.stemEnded() {
				reason = "its spare's stem worker ended"
			}
			if reason == "" {
				s.keepSpares()
			}
			// Once per quiet spell, an idle agent gives back what it
			// does not use while it waits (sandbox.Shed).
			if s.inFlight.Load() == 0 && idle >= shedIdle && shedAt != last {
				shedAt = last
				sandbox.Shed()
			}
		}
	}
	s.log.Info("stopping", "reason", reason)
	s.hub.close()
	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.shutdownPools()
	s.endSpare()
	return err
}

func (s *Server) shutdownPools() {
	s.mu.Lock()
	pools := s.pools
	s.pools = map[string]*pool{}
	s.mu.Unlock()
	for _, p := range pools {
		p.retire()
	}
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Token == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		// The token of the moment: a spare takes its instance's.
		want := []byte("Bearer " + s.ident.Load().token)
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeJSON(w, http.StatusUnauthorized, api.ErrorResponse{Error: "missing or wrong bearer token"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// poolFor returns the pool of the request's version, making it current:
// a request for a newer version retires the older pools, whose busy workers
// finish their jobs first.
func (s *Server) poolFor(req api.InvokeRequest, k string) *pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[k]
	if p == nil {
		p = newPool(s.host, req.Invocation(), s.ids)
		s.pools[k] = p
	}
	if s.current != k {
		for old, op := range s.pools {
			if op != p {
				delete(s.pools, old)
				go op.retire()
			}
		}
		s.current = k
	}
	return p
}

// versionKey tells versions apart, including those with the same code but
// other limits.
// A secret set anew makes another key too, so warm workers that hold the
// old value retire like those of an older version.
func versionKey(req api.InvokeRequest) string {
	b, _ := json.Marshal(req.Config)
	k := req.SHA256 + string(b)
	if len(req.Secrets) > 0 {
		h := sha256.New()
		for _, r := range req.Config.Secrets {
			fmt.Fprintf(h, "%s %d %s\x00", r.Name, len(req.Secrets[r.Name]), req.Secrets[r.Name])
		}
		k += hex.EncodeToString(h.Sum(nil))
	}
	return k
}

// Prestart reads one invoke request (the version an instance is launched
// for; its job and payload are not needed) from r and starts a warm worker
// of that version before any call asks for one: a local instance is
// launched for a first call, whose worker then starts while that call
// makes its way here. Anything but a handler, or a request that does not
// read, is left for the call.
// It returns the version's config, when it read one.
func (s *Server) Prestart(r io.Reader) (function.Config, bool) {
	var req api.InvokeRequest
	if err := json.NewDecoder(io.LimitReader(r, maxRequest)).Decode(&req); err != nil || req.SHA256 == "" || !isHandler(req.Config) {
		return req.Config, false
	}
	// Without the values of its secrets, the call's worker would be of
	// another version key.
	if len(req.Config.Secrets) > 0 && len(req.Secrets) == 0 {
		return req.Config, true
	}
	if _, err := os.Stat(codestore.Path(s.cfg.Home, req.Invocation())); err != nil {
		return req.Config, true
	}
	s.poolFor(req, versionKey(req)).prestart(s.host.logf)
	return req.Config, true
}

func (s *Server) scriptSlots(req api.InvokeRequest, k string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.scripts[k]
	if c == nil {
		c = make(chan struct{}, max(req.Config.Concurrency, 1))
		s.scripts[k] = c
	}
	return c
}

func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer func() {
		s.inFlight.Add(-1)
		s.lastActive.Store(time.Now().UnixNano())
	}()
	s.lastActive.Store(time.Now().UnixNano())
	var req api.InvokeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, api.ErrorResponse{Error: "bad request: " + err.Error()})
		return
	}
	if req.JobID == "" || req.SHA256 == "" || req.TimeoutMS <= 0 {
		writeJSON(w, http.StatusBadRequest, api.ErrorResponse{Error: "bad request: job_id, sha256 and timeout_ms are required"})
		return
	}
	if _, err := os.Stat(codestore.Path(s.cfg.Home, req.Invocation())); err != nil {
		writeJSON(w, http.StatusPreconditionFailed, api.ErrorResponse{Error: "code " + req.SHA256 + " is not on this instance"})
		return
	}
	s.invoked.Add(1)
	var out faastype.Outcome
	var worker string
	var died bool
	var err error
	k := versionKey(req)
	if isHandler(req.Config) {
		out, worker, died, err = s.poolFor(req, k).run(r.Context(), req)
	} else {
		slots := s.scriptSlots(req, k)
		select {
		case slots <- struct{}{}:
			out, err = s.host.runScript(r.Context(), req.Invocation())
			<-slots
		case <-r.Context().Done():
			out = faastype.Interrupted(time.Now())
		}
	}
	if err != nil {
		s.errors.Add(1)
		s.log.Error("platform error", logging.JobID, req.JobID, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, api.ErrorResponse{Error: err.Error()})
		return
	}
	if out.Status != faastype.Completed {
		s.errors.Add(1)
		// A function's error is its job's business; a dying worker is the
		// instance's too.
		if died {
			s.log.Warn("worker died", logging.JobID, req.JobID, "error", out.Error)
		}
	}
	if out.Cold {
		s.coldStarts.Add(1)
	}
	writeJSON(w, http.StatusOK, api.NewInvokeResponse(out, worker))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	id := s.ident.Load()
	writeJSON(w, http.StatusOK, api.Health{OK: true, Instance: id.instance, Function: id.function, PID: os.Getpid()})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	id := s.ident.Load()
	st := api.Stats{
		Instance: id.instance, Function: id.function, PID: os.Getpid(),
		UptimeS:  time.Since(s.started).Seconds(),
		IdleS:    time.Since(time.Unix(0, s.lastActive.Load())).Seconds(),
		InFlight: int(s.inFlight.Load()), Invoked: s.invoked.Load(), Errors: s.errors.Load(),
		ColdStarts: s.coldStarts.Load(), Pinned: id.pinned,
	}
	s.mu.Lock()
	for _, p := range s.pools {
		st.Workers += len(p.workers())
	}
	s.mu.Unlock()
	// The agent and every process below it: workers, the jails' inits and
	// the functions they run, scripts.
	st.RSSBytes, st.CPUSeconds = proc.TreeUsage(os.Getpid())
	writeJSON(w, http.StatusOK, st)
}

// handleLogs streams the lines of this instance's jobs as NDJSON, from
// ?since=<unix ms> (within the recent lines kept) or from now, until the
// follower goes or the agent stops.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, api.ErrorResponse{Error: "since: want Unix milliseconds"})
			return
		}
		since = time.UnixMilli(ms)
	}
	past, c := s.hub.subscribe(since)
	defer s.hub.unsubscribe(c)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for _, l := range past {
		_ = enc.Encode(l)
	}
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case l, ok := <-c:
			if !ok {
				return
			}
			if err := enc.Encode(l); err != nil {
				return
			}
			// Send what else is ready with it, then flush once.
			for more := true; more; {
				select {
				case l, ok := <-c:
					if !ok {
						return
					}
					_ = enc.Encode(l)
				default:
					more = false
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
