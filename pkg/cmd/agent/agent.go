// Package agent is the hidden `faas agent` command that runs inside every
// instance.
package agent

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/agent"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// NewCmd returns `faas agent`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var cfg agent.Config
	var holdDB string
	cmd := &cobra.Command{
		Use:    "agent",
		Short:  "Serve a function's invocations inside an instance",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Socket == "" && cfg.Addr == "" {
				return fault.Usagef("faas agent needs --socket or --addr")
			}
			if cfg.Token == "" {
				cfg.Token = os.Getenv("FAAS_AGENT_TOKEN")
			}
			// Nothing the agent starts needs it (functions get an
			// environment of their own, never this one).
			_ = os.Unsetenv("FAAS_AGENT_TOKEN")
			s, err := agent.New(cfg, f.IOStreams.ErrOut)
			if err != nil {
				return err
			}
			l, err := s.Listen()
			if err != nil {
				return fault.Platformf("agent: %w", err)
			}
			if holdDB != "" {
				// Best effort: without it only the commands get slower.
				if c, err := sqlite.Hold(holdDB); err == nil {
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
	fl.StringVar(&holdDB, "hold-db", "", "keep a connection to the faas database in this FAAS_HOME open (local instances)")
	return cmd
}
