// Package guest is the faas a VM guest runs: `faas agent` and the
// sandbox's re-exec of itself, without the commands that need SQLite
// (cgo). It builds static (CGO_ENABLED=0) as cmd/faas-agent, the binary the
// Multipass provider copies into its VMs, whose glibc need not be the
// host's.
package guest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/agent"
	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/spare"
	"github.com/faasdev/faas/pkg/vminit"
)

// Holder is what a local agent runs beside its server, with the FAAS_HOME
// of its database: it keeps a connection to that database open (commands
// then start faster) and takes `faas invoke` calls for the function
// (pkg/fastinvoke); nil where there is none. What it returns is closed
// when the agent stops.
type Holder func(home string, cfg agent.Config) (io.Closer, error)

// NewCmd returns `faas agent`, which serves one instance's invocations.
func NewCmd(errOut io.Writer, hold Holder) *cobra.Command {
	var cfg agent.Config
	var holdDB string
	var prestart bool
	var readyFD, configFD int
	var sp agent.Spare
	var spares int
	cmd := &cobra.Command{
		Use:    "agent",
		Short:  "Serve a function's invocations inside an instance",
		Hidden: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fault.Usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Socket == "" && cfg.Addr == "" {
				return fault.Usagef("faas agent needs --socket or --addr")
			}
			if configFD > 2 {
				if err := awaitInstance(configFD, &cfg); err != nil {
					return err
				}
			}
			if cfg.Token == "" {
				cfg.Token = os.Getenv("FAAS_AGENT_TOKEN")
			}
			// Nothing the agent starts needs it (functions get an
			// environment of their own, never this one).
			_ = os.Unsetenv("FAAS_AGENT_TOKEN")
			s, err := agent.New(cfg, errOut)
			if err != nil {
				return err
			}
			var ready *os.File
			if readyFD > 2 {
				// Not for the processes it starts, the prestarted worker's
				// among them.
				syscall.CloseOnExec(readyFD)
				ready = os.NewFile(uintptr(readyFD), "ready")
			}
			if sp.Runtime != "" {
				return serveSpare(cmd.Context(), s, cfg, sp, holdDB, hold)
			}
			l, err := s.Listen()
			if err == nil && prestart {
				// Before it says it is ready: the worker's start is the
				// longer, and the call may come right away.
				if c, ok := s.Prestart(os.Stdin); ok && spares > 0 {
					s.KeepSpares(spares, c, sp.Shape)
				}
			}
			if ready != nil {
				if err == nil {
					_, _ = ready.WriteString(api.ReadyLine)
				}
				ready.Close()
			}
			if err != nil {
				return fault.Platformf("agent: %w", err)
			}
			if holdDB != "" && hold != nil {
				// Best effort: without it only the commands get slower.
				if c, err := hold(holdDB, cfg); err == nil {
					defer c.Close()
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return s.Serve(ctx, l)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Instance, "instance", "", "instance id")
	fl.StringVar(&cfg.Function, "function", "", "function name")
	fl.StringVar(&cfg.Home, "home", "", "where code and working directories live")
	fl.StringVar(&cfg.Socket, "socket", "", "unix socket to listen on")
	fl.StringVar(&cfg.Addr, "addr", "", "TCP address to listen on (needs a token in FAAS_AGENT_TOKEN)")
	fl.DurationVar(&cfg.Idle, "idle", agent.DefaultIdle, "exit after this long without invocations")
	fl.BoolVar(&cfg.Pinned, "pinned", false, "never exit when idle")
	fl.IntVar(&readyFD, "ready-fd", 0, "write a line to this inherited fd once listening, then close it")
	fl.BoolVar(&prestart, "prestart", false, "start a worker for the version whose invoke request (without payload) is on stdin, before any call")
	fl.DurationVar(&cfg.InitTimeout, "init-timeout", agent.DefaultInitTimeout, "how long a warm worker may take to start (a VM under emulation needs longer)")
	fl.StringVar(&holdDB, "hold-db", "", "keep a connection to the faas database in this FAAS_HOME open (local instances)")
	fl.IntVar(&configFD, "config-fd", 0, "start up, then read the instance (id, function, token, idle, init timeout) from this inherited fd, one JSON line (a micro-VM's init)")
	fl.StringVar((*string)(&sp.Runtime), "spare", "", "be a spare of this runtime (--instance names the spare): start a worker with no function, and become the instance that claims it")
	fl.StringVar(&sp.Interpreter, "interpreter", "", "a spare's interpreter")
	fl.IntVar(&spares, "spares", 0, "keep this many spares of the prestarted version's runtime (local instances)")
	fl.StringVar(&sp.Shape, "shape", "", "what a spare was made with, which its claimer must match")
	return cmd
}

// awaitInstance does what the agent can before it knows its instance
// (the sandbox's probes), then reads the instance from fd, which a
// micro-VM's init writes once the host has given it one: an agent started
// before a snapshot and restored in many VMs gets each VM's own.
func awaitInstance(fd int, cfg *agent.Config) error {
	syscall.CloseOnExec(fd)
	sandbox.DetectSandbox()
	f := os.NewFile(uintptr(fd), "config")
	defer f.Close()
	var ic vminit.Config
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&ic); err != nil {
		return fault.Platformf("agent: its instance: %w", err)
	}
	if ic.Instance == "" || ic.Token == "" {
		return fault.Platformf("agent: its instance has no id or token")
	}
	cfg.Instance, cfg.Function, cfg.Token, cfg.Pinned = ic.Instance, ic.Function, ic.Token, ic.Pinned
	if ic.Idle > 0 {
		cfg.Idle = ic.Idle
	}
	if ic.InitTimeout > 0 {
		cfg.InitTimeout = ic.InitTimeout
	}
	return nil
}

// serveSpare runs a spare agent: it says which process it is, listens,
// starts its stem, and serves until it is claimed and then as the
// instance it became, or until it is idle (unclaimed) for its idle time.
func serveSpare(ctx context.Context, s *agent.Server, cfg agent.Config, sp agent.Spare, holdDB string, hold Holder) error {
	me := spare.Info{ID: cfg.Instance, Runtime: sp.Runtime, Interpreter: sp.Interpreter, Shape: sp.Shape, PID: os.Getpid(), PIDStart: proc.SelfStart()}
	if cfg.Home == "" || !strings.HasPrefix(cfg.Instance, "spare-") {
		return fault.Usagef("a spare needs --home and an --instance named spare-…")
	}
	if err := spare.Started(cfg.Home, me); err != nil {
		return fault.Platformf("spare: %w", err)
	}
	l, err := s.Listen()
	if err != nil {
		spare.Remove(cfg.Home, cfg.Instance)
		return fault.Platformf("agent: %w", err)
	}
	var mu sync.Mutex
	var held []io.Closer
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range held {
			h.Close()
		}
	}()
	if holdDB != "" && hold != nil {
		s.OnBecome = func(c agent.Config) {
			mu.Lock()
			for _, h := range held {
				if st, ok := h.(interface{ Stop() }); ok {
					st.Stop()
				}
			}
			mu.Unlock()
			if h, err := hold(holdDB, c); err == nil {
				mu.Lock()
				held = append(held, h)
				mu.Unlock()
			}
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		if err := s.StartSpare(sp); err != nil {
			fmt.Fprintf(os.Stderr, "%s: spare not started: %v\n", cfg.Instance, err)
			if errors.Is(err, agent.ErrNoSpares) {
				spare.Off(cfg.Home, err.Error())
			}
			stop()
			return
		}
		// Free, it takes the `faas invoke` calls of functions without a
		// warm agent (its Function is ""): a launch it runs claims it.
		// Once it is an instance, those of its function (OnBecome).
		if holdDB != "" && hold != nil {
			if h, err := hold(holdDB, cfg); err == nil {
				mu.Lock()
				held = append(held, h)
				mu.Unlock()
			}
		}
	}()
	return s.Serve(ctx, l)
}

// Main runs the guest's faas with args (without the program name) and
// returns the exit code: 2 for bad usage, 3 for anything else that fails,
// as faas itself exits.
func Main(args []string) int {
	if os.Getpid() == 1 && len(args) == 0 {
		// The initramfs' /init of a micro-VM (the qemu provider).
		vminit.Main()
	}
	if len(args) > 0 && args[0] == sandbox.SandboxArg {
		return sandbox.SandboxMain(args[1:])
	}
	root := &cobra.Command{Use: "faas", Short: "The faas agent of a VM guest", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fault.Usagef("%v", err) })
	root.AddCommand(NewCmd(os.Stderr, nil))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0
	}
	msg := err.Error()
	if h := fault.HintOf(err); h != "" {
		msg += "; " + h
	}
	fmt.Fprintln(os.Stderr, "error: "+msg)
	if fault.KindOf(err) == fault.Usage {
		return 2
	}
	return 3
}
