package agent

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fastinvoke"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/spare"
)

// invokes runs the `faas invoke` calls of one function handed to its
// local agent (pkg/fastinvoke), with the engine a faas command opens, kept
// open between calls.
type invokes struct {
	f    *cmdutil.Factory
	home string
	fn   string
	// env is this agent's FAAS_* environment, which a call's must match.
	env map[string]string
	srv *fastinvoke.Server

	once sync.Once
	eng  *engine.Engine
	err  error
}

// serveInvokes takes the calls of fn in home, unless its records are not
// this home's SQLite database. With fn "" (a spare agent, pkg/spare) it
// takes the calls of any function on the home's spare socket: those of
// functions with no warm agent, cold starts, which it runs here, where a
// launch claims this very spare.
func serveInvokes(f *cmdutil.Factory, home, fn string) (*invokes, error) {
	if f.Run == nil {
		return nil, errors.New("no command line to run calls with")
	}
	if faashome.DatabaseURL() != "" {
		return nil, errors.New("the records are in PostgreSQL")
	}
	path := fastinvoke.SocketPath(home, fn)
	if fn == "" {
		path = fastinvoke.SpareSocketPath(home)
	}
	l, err := fastinvoke.Listen(path)
	if err != nil {
		return nil, err
	}
	h := &invokes{f: f, home: home, fn: fn, env: faasEnv(os.Environ())}
	if h.srv, err = fastinvoke.NewServer(l, h); err != nil {
		l.Close()
		return nil, err
	}
	go func() { _ = h.srv.Serve() }()
	return h, nil
}

func (h *invokes) engine() (*engine.Engine, error) {
	h.once.Do(func() { h.eng, h.err = cmdutil.OpenEngine(context.Background(), h.home) })
	return h.eng, h.err
}

// Accept takes a call of this agent's function from a command line whose
// environment means what this agent's does (the same FAAS_* settings).
func (h *invokes) Accept(c *fastinvoke.Call) bool {
	name, ok := fastinvoke.Function(c.Args)
	if !ok || h.fn != "" && name != h.fn {
		return false
	}
	if !sameEnv(h.env, faasEnv(c.Env)) {
		return false
	}
	eng, err := h.engine()
	if err != nil {
		return false
	}
	if h.fn == "" {
		// A spare takes only what it can become: a function whose
		// current version qualifies (pkg/spare); the rest take the full
		// path, as without a spare.
		fn, err := eng.Function(context.Background(), name)
		if err != nil {
			return false
		}
		v := fn.Current
		q, _ := spare.Qualifies(faastype.Invocation{Tree: v.Tree, Deps: v.Deps, Config: v.Config})
		return q
	}
	return true
}

// Run runs the call's command line as the client's faas would have.
func (h *invokes) Run(ctx context.Context, c *fastinvoke.Call) int {
	io := iostreams.Files(c.Stdin, c.Stdout, c.Stderr, c.Getenv)
	var broken atomic.Bool
	io.Out, io.ErrOut = &pipeWriter{c.Stdout, &broken}, &pipeWriter{c.Stderr, &broken}
	code := h.f.Run(ctx, cmdutil.ForEngine(io, h.engine, cmdutil.Runner{PID: c.PID, Start: proc.Start(c.PID)}), c.Args)
	if broken.Load() {
		return fastinvoke.Signal + int(syscall.SIGPIPE)
	}
	return code
}

// pipeWriter is a client's stdout or stderr. A Go program that writes to
// its closed stdout or stderr pipe dies of SIGPIPE there and then: so does
// the client, and nothing more is written.
type pipeWriter struct {
	f      *os.File
	broken *atomic.Bool
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	if w.broken.Load() {
		return 0, &cmdutil.ExitError{Code: cmdutil.ExitPlatform}
	}
	n, err := w.f.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		w.broken.Store(true)
		// An ExitError without a cause prints nothing more.
		return n, &cmdutil.ExitError{Code: cmdutil.ExitPlatform}
	}
	return n, err
}

// Stop stops taking calls, and does not wait for those running (a spare's
// own call is what makes it stop).
func (h *invokes) Stop() { h.srv.Stop() }

// Close stops taking calls, waits for those running, and closes the engine.
func (h *invokes) Close() error {
	err := h.srv.Close()
	if h.eng != nil {
		err = errors.Join(err, h.eng.Close())
	}
	return err
}

// ignoredEnv are the FAAS_* variables a call's environment may set
// otherwise: the home is the socket's, the others change nothing a call
// does (FAAS_DEBUG, FAAS_FAST_INVOKE) or are never set for one.
var ignoredEnv = map[string]bool{"FAAS_HOME": true, "FAAS_DEBUG": true, "FAAS_FAST_INVOKE": true, "FAAS_AGENT_TOKEN": true}

// faasEnv is the FAAS_* variables of env that matter to a call.
func faasEnv(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FAAS_") && !ignoredEnv[k] && v != "" {
			m[k] = v
		}
	}
	return m
}

func sameEnv(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
