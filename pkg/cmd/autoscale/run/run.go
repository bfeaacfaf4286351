// Package run is `faas autoscale run`: the watcher in the foreground.
package run

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/dispatcher"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/logging"
)

// Options of `faas autoscale run`.
type Options struct {
	IO        *iostreams.IOStreams
	Engine    func() (*engine.Engine, error)
	LogFormat string
}

// NewCmd returns `faas autoscale run`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the watcher in the foreground (for systemd)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.LogFormat, "log-format", "", logging.Flag)
	return cmd
}

// Run watches until ctx ends (SIGTERM or SIGINT: pkg/app cancels it).
func Run(ctx context.Context, o *Options) error {
	format, err := logging.Format(o.LogFormat)
	if err != nil {
		return fault.Usagef("--log-format: %v", err)
	}
	lg := logging.New(o.IO.ErrOut, format)
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	if st := engine.ReadWatcher(eng.Home); st.Running && st.PID != os.Getpid() {
		return eng.RunWatcher(ctx, lg) // refuses a second watcher
	}
	// The watcher fires the functions' schedules too (as faas serve
	// does); their jobs run on this home's queue.
	sch := &engine.Scheduler{Engine: eng, Log: lg.With("component", "scheduler"), Queued: func() {
		if err := dispatcher.Ensure(eng.Home); err != nil {
			o.IO.Warnf("%v", err)
		}
	}}
	scheduled := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { scheduled <- sch.Run(sctx) }()
	err = eng.RunWatcher(ctx, lg)
	stop()
	return errors.Join(err, <-scheduled)
}
