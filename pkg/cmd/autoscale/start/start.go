// Package start is `faas autoscale start`.
package start

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas autoscale start`.
type Options struct {
	IO     *iostreams.IOStreams
	Home   func() (string, error)
	Engine func() (*engine.Engine, error)
}

// NewCmd returns `faas autoscale start`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Home: cmdutil.LocalHome, Engine: f.Engine}
	return &cobra.Command{
		Use:   "start",
		Short: "Start the watcher in the background",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
}

// Run starts the watcher.
func Run(_ context.Context, o *Options) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	if _, err := o.Engine(); err != nil { // the database, before the watcher needs it
		return err
	}
	pid, err := engine.StartWatcher(h)
	if err != nil {
		return err
	}
	o.IO.Successf("autoscale watcher started (pid %d); log: %s", pid, faashome.WatcherLog(h))
	return nil
}
