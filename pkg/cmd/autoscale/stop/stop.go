// Package stop is `faas autoscale stop`.
package stop

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas autoscale stop`.
type Options struct {
	IO   *iostreams.IOStreams
	Home func() (string, error)
}

// NewCmd returns `faas autoscale stop`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Home: cmdutil.LocalHome}
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the watcher (it finishes its tick)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
}

// Run stops the watcher, if it runs.
func Run(_ context.Context, o *Options) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	was, err := engine.StopWatcher(h)
	if err != nil {
		return err
	}
	if was {
		o.IO.Successf("autoscale watcher stopped")
	} else {
		o.IO.Infof("the autoscale watcher was not running")
	}
	return nil
}
