// Package run is `faas autoscale run`: the watcher in the foreground.
package run

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
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
	return eng.RunWatcher(ctx, o.IO.ErrOut)
}
