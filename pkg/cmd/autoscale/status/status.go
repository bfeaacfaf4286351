// Package status is `faas autoscale status`.
package status

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas autoscale status`.
type Options struct {
	IO     *iostreams.IOStreams
	Home   func() (string, error)
	Output string
}

// NewCmd returns `faas autoscale status`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Home: cmdutil.LocalHome}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the watcher runs, since when, and its last tick",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run prints the watcher's status.
func Run(_ context.Context, o *Options) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	st := engine.ReadWatcher(h)
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, st)
	}
	_, err = fmt.Fprintln(o.IO.Out, st.String())
	return err
}
