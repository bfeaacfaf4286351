// Package rm is `faas rm NAME`.
package rm

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas rm`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Name    string
}

// NewCmd returns the rm command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a function and all its versions",
		Long: `Remove the function NAME and all its versions. Its jobs stay on record,
for the bill and the logs.`,
		Args: cmdutil.ExactArgs(1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	return cmd
}

// Run removes.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	if err := eng.Remove(ctx, o.Name); err != nil {
		return err
	}
	o.IO.Successf("removed %s", o.Name)
	return nil
}
