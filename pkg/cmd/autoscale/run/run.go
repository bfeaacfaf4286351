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
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas autoscale run`.
type Options struct {
	IO     *iostreams.IOStreams
	Engine func() (*engine.Engine, error)
}

// NewCmd returns `faas autoscale run`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Engine: f.Engine}
	return &cobra.Command{
		Use:   "run",
		Short: "Run the watcher in the foreground (for systemd)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
}

// Run watches until ctx ends (SIGTERM or SIGINT: pkg/app cancels it).
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	if st := engine.ReadWatcher(eng.Home); st.Running && st.PID != os.Getpid() {
		return eng.RunWatcher(ctx, o.IO.ErrOut) // refuses a second watcher
	}
	// The watcher fires the functions' schedules too (as faas serve
	// does); their jobs run on this home's queue.
	sch := &engine.Scheduler{Engine: eng, Log: o.IO.ErrOut, Queued: func() {
		if err := dispatcher.Ensure(eng.Home); err != nil {
			o.IO.Warnf("%v", err)
		}
	}}
	scheduled := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { scheduled <- sch.Run(sctx) }()
	err = eng.RunWatcher(ctx, o.IO.ErrOut)
	stop()
	return errors.Join(err, <-scheduled)
}
