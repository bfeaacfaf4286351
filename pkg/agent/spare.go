package agent

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/spare"
)

// Spare makes an agent a spare (pkg/spare): it starts a stem worker of
// Runtime with Interpreter in a jail made for no function, and waits to
// become the instance of whichever launch claims it.
type Spare struct {
	Runtime     function.Runtime
	Interpreter string
	Shape       string
}

// ErrNoSpares says this host makes no spares (it cannot jail).
var ErrNoSpares = errors.New("no spares on this host")

// claimWait is how long a spare that was claimed waits for the claimer's
// POST /become before it takes the claimer for dead and exits.
const claimWait = 30 * time.Second

// stem is a spare agent's state.
type stem struct {
	sp Spare

	mu        sync.Mutex
	w         *worker // nil until its stem worker is up
	became    bool
	claimedAt time.Time // when the spare found itself claimed, at idle
}

// identity is who an agent is: a spare becomes another.
type identity struct {
	instance, function, token string
	pinned                    bool
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// StartSpare starts the spare's stem worker and, once it is up, says the
// spare is free to claim. It returns when the stem is up, or why it could
// not start.
func (s *Server) StartSpare(sp Spare) error {
	if !s.host.sb.Sandbox.Jail {
		return fmt.Errorf("%w: %s", ErrNoSpares, s.host.sb.Sandbox.JailWhy)
	}
	if sp.Runtime != function.Python {
		return fmt.Errorf("no spares for the %s runtime", sp.Runtime)
	}
	prog, err := interp.Pinned(sp.Runtime, sp.Interpreter)
	if err != nil {
		return err
	}
	st := &stem{sp: sp}
	s.mu.Lock()
	s.spare = st
	s.mu.Unlock()
	id := s.cfg.Instance
	task := spare.TaskDir(s.cfg.Home, id)
	bootstrap, err := bootstrapFor(sp.Runtime)
	if err != nil {
		return err
	}
	// The jail of a function with none of its own: its code directory is
	// the spare's, empty until it is claimed; the default /tmp; no network.
	c := command{workdir: sandbox.JailTmp, argv: append([]string{prog}, bootstrap...),
		jail: &sandbox.Jail{UID: s.host.uid, TmpMB: function.DefaultTmpMB,
			Mounts: append([]sandbox.Mount{{Source: task, Target: sandbox.JailDir}}, sandbox.ProgramMounts(prog)...)}}
	if s.host.share != "" {
		c.jail.Mounts = append(c.jail.Mounts, sandbox.Mount{Source: s.host.share, Target: s.host.share, Writable: true})
	}
	env := function.EnvList(map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": sandbox.JailTmp, "TMPDIR": sandbox.JailTmp, "LANG": "C.UTF-8",
		"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "FAAS_STEM": "1",
	})
	begin := time.Now()
	w, err := spawnWorker(s.host, s.ids(), c, env, function.DefaultMemoryMB, function.DefaultCPUs, nil)
	if err != nil {
		return err
	}
	if logs, err := w.awaitReady(s.host, begin, true); err != nil {
		return fmt.Errorf("stem: %v: %s", err, logs)
	}
	st.mu.Lock()
	st.w = w
	st.mu.Unlock()
	me := spare.Info{ID: id, Runtime: sp.Runtime, Interpreter: sp.Interpreter, Shape: sp.Shape, PID: os.Getpid(), PIDStart: proc.SelfStart()}
	if err := spare.MarkFree(s.cfg.Home, me); err != nil {
		return fmt.Errorf("say the spare is free: %w", err)
	}
	s.log.Info("spare ready", "runtime", string(sp.Runtime), "interpreter", sp.Interpreter, "stem_ms", time.Since(begin).Milliseconds())
	return nil
}

// handleBecome makes a claimed spare the instance the claimer names.
func (s *Server) handleBecome(w http.ResponseWriter, r *http.Request) {
	var req api.BecomeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, api.ErrorResponse{Error: "bad request: " + err.Error()})
		return
	}
	if err := s.become(req); err != nil {
		writeJSON(w, http.StatusConflict, api.ErrorResponse{Error: err.Error()})
		return
	}
	id := s.ident.Load()
	writeJSON(w, http.StatusOK, api.Health{OK: true, Instance: id.instance, Function: id.function, PID: os.Getpid()})
}

// become turns the spare into req's instance, once: its stem worker is
// handed the version's code (linked into its code directory, which its
// jail sees at /var/task), limits and environment, and imports it while
// the claimer's call makes its way here.
func (s *Server) become(req api.BecomeRequest) error {
	s.mu.Lock()
	st := s.spare
	s.mu.Unlock()
	if st == nil {
		return errors.New("not a spare")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.became:
		return errors.New("this spare was used")
	case st.w == nil:
		return errors.New("this spare's stem is not up")
	case !instanceName.MatchString(req.Instance) || req.Function == "" || req.Token == "":
		return errors.New("become: instance, function and token are required")
	}
	inv := req.Invoke.Invocation()
	if ok, why := spare.Qualifies(inv); !ok {
		return fmt.Errorf("version %d of %s cannot start from a spare: %s", inv.Version, inv.Function, why)
	}
	if inv.Config.Runtime != st.sp.Runtime || inv.Config.Interpreter != st.sp.Interpreter {
		return fmt.Errorf("this spare runs %s %s, not %s", st.sp.Runtime, st.sp.Interpreter, inv.Config.Interpreter)
	}
	select {
	case <-st.w.dead:
		return errors.New("this spare's stem has ended")
	default:
	}
	// Used once, whatever happens next.
	st.became = true
	begin := time.Now()
	code := codestore.Path(s.cfg.Home, inv)
	if err := s.host.verify(code, inv.SHA256); err != nil {
		return err
	}
	name := jailName(inv.Filename, code)
	if err := faashome.LinkOrCopy(code, filepath.Join(spare.TaskDir(s.cfg.Home, s.cfg.Instance), name)); err != nil {
		return fmt.Errorf("give the spare its code: %w", err)
	}
	if err := st.w.proc.SetLimits(inv.Config.MemoryMB, inv.Config.CPUs); err != nil {
		return err
	}
	st.w.memoryMB = inv.Config.MemoryMB
	inv.JobID, inv.Payload = "", nil
	body, _ := json.Marshal(map[string]any{"become": map[string]any{
		"path": sandbox.JailDir + "/" + name,
		"env":  environVars(inv, sandbox.JailTmp, time.Time{}),
	}})
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := st.w.reqW.Write(append(msg, body...)); err != nil {
		return fmt.Errorf("the spare's stem: %w", err)
	}
	// From here it is the instance: its token, its socket, its log.
	s.ident.Store(&identity{instance: req.Instance, function: req.Function, token: req.Token, pinned: req.Pinned})
	s.hub.rename(req.Instance, req.Function)
	sock := faashome.AgentSocket(s.cfg.Home, req.Instance)
	if err := os.Rename(s.cfg.Socket, sock); err != nil {
		return fmt.Errorf("move the spare's socket: %w", err)
	}
	s.socket.Store(&sock)
	if log := faashome.Log(s.cfg.Home, req.Instance); !exists(log) {
		_ = os.Rename(faashome.Log(s.cfg.Home, s.cfg.Instance), log)
	}
	w := st.w
	s.poolFor(req.Invoke, versionKey(req.Invoke)).warm(s.host.logf, func(string) (*worker, error) {
		if _, err := w.awaitReady(s.host, begin, false); err != nil {
			return nil, err
		}
		return w, nil
	})
	s.lastActive.Store(time.Now().UnixNano())
	s.log.Info("spare became an instance", "as", req.Instance, "function", req.Function, "version", inv.Version)
	if req.Spares > 0 {
		s.KeepSpares(req.Spares, req.Invoke.Config, st.sp.Shape)
	}
	if s.OnBecome != nil {
		cfg := s.cfg
		cfg.Instance, cfg.Function, cfg.Socket, cfg.Token, cfg.Pinned = req.Instance, req.Function, sock, req.Token, req.Pinned
		go s.OnBecome(cfg)
	}
	return nil
}

// spareDelay is how long an agent waits before it spawns the spares its
// home lacks: the call that launched it is under way, and has the machine
// first.
const spareDelay = 500 * time.Millisecond

// KeepSpares makes the agent keep, from spareDelay on and then at each
// tick of its loop (about a second) for as long as it runs, up to n spares
// of the runtime and interpreter of c (of this shape) in its home: a spare
// claimed, or gone with its idle time, is replaced by whichever agent of
// the home looks first. The spares outlive the agent.
func (s *Server) KeepSpares(n int, c function.Config, shape string) {
	if !spare.Qualifying(c) || !s.host.sb.Sandbox.Jail {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	k := spare.Keeper{Home: s.cfg.Home, Self: self, Idle: s.cfg.Idle, N: n}
	w := spare.Want{Runtime: c.Runtime, Interpreter: c.Interpreter, Shape: shape}
	// The setting it was launched with holds until the settings change
	// (`faas config set` touches their stamp): then it keeps none, and the
	// next launch passes the new value on.
	stamp := faashome.ConfigStamp(s.cfg.Home)
	seen := faashome.Changed(stamp)
	var keep func()
	keep = func() {
		if !faashome.Changed(stamp).Equal(seen) {
			s.mu.Lock()
			s.keep = nil
			s.mu.Unlock()
			return
		}
		k.Keep(w)
	}
	s.mu.Lock()
	s.keep = keep
	s.mu.Unlock()
	time.AfterFunc(spareDelay, s.keepSpares)
}

// keepSpares spawns the spares KeepSpares asked for that the home lacks.
func (s *Server) keepSpares() {
	s.mu.Lock()
	f := s.keep
	s.mu.Unlock()
	if f != nil && time.Since(s.started) >= spareDelay {
		f()
	}
}

// spareMayExit says whether an idle agent may exit: a spare first takes
// itself, so that no launch claims it on its way out; one that was
// claimed waits for its claimer (a while).
func (s *Server) spareMayExit() bool {
	s.mu.Lock()
	st := s.spare
	s.mu.Unlock()
	if st == nil {
		return true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.became {
		return true
	}
	if !st.claimedAt.IsZero() {
		return time.Since(st.claimedAt) > claimWait
	}
	if spare.Take(s.cfg.Home, s.cfg.Instance) {
		return true
	}
	st.claimedAt = time.Now()
	return false
}

// stemEnded says a spare's stem worker ended before it was claimed.
func (s *Server) stemEnded() bool {
	s.mu.Lock()
	st := s.spare
	s.mu.Unlock()
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.w == nil || st.became {
		return false
	}
	select {
	case <-st.w.dead:
		return true
	default:
		return false
	}
}

// endSpare is a spare agent's last step: an unused stem is stopped, and
// the spare's directory removed; one that became an instance removes the
// socket it moved.
func (s *Server) endSpare() {
	s.mu.Lock()
	st := s.spare
	s.mu.Unlock()
	if st == nil {
		return
	}
	st.mu.Lock()
	w, became := st.w, st.became
	st.mu.Unlock()
	if w != nil && !became {
		_ = spare.Take(s.cfg.Home, s.cfg.Instance)
		w.stop()
	}
	if became {
		_ = os.Remove(*s.socket.Load())
	}
	spare.Remove(s.cfg.Home, s.cfg.Instance)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
