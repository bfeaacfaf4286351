// Package rollback is `faas rollback NAME [--to VERSION]`.
package rollback

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas rollback`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Name    string
	To      int
	Output  string
}

// NewCmd returns the rollback command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Make an earlier version of a function current",
		Long: `Make the version before the current one (or --to VERSION) current again.
Its code and config both come back. The version number is printed on stdout.`,
		Example: `  faas rollback hello
  faas rollback hello --to 1`,
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
	cmd.Flags().IntVar(&opts.To, "to", 0, "version to make current (default: the one before the current)")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "version", cmdutil.OutputJSON)
	return cmd
}

// Run rolls back.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	from, to, err := eng.Rollback(ctx, o.Name, o.To)
	if err != nil {
		return err
	}
	o.IO.Successf("%s: v%d is current (was v%d)", o.Name, to, from)
	if o.Output == cmdutil.OutputJSON {
		fn, err := eng.Function(ctx, o.Name)
		if err != nil {
			return err
		}
		return cmdutil.WriteJSON(o.IO.Out, api.NewFunction(fn))
	}
	_, err = fmt.Fprintln(o.IO.Out, to)
	return err
}
