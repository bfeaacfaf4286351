// Package down is `faas down`: remove the functions a manifest lists.
package down

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/up"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/manifest"
)

// Options of `faas down`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	File    string
	Names   []string
}

// NewCmd returns the down command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "down [NAME...]",
		Short: "Remove the functions a manifest lists",
		Long: `Remove the functions that faas.yaml lists (or only the NAMEs given) and all
their versions, as ` + "`faas rm`" + ` does; their jobs stay on record. A function that
is not deployed is no error: it is said and skipped. The manifest must be
valid, but its functions' files need not exist.

The removed functions' names are printed on stdout.`,
		Example: `  faas down
  faas down -f services/faas.yaml resize`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: up.CompleteNames(&opts.File),
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", manifest.DefaultFile, "the manifest")
	return cmd
}

// Run removes.
func Run(ctx context.Context, o *Options) error {
	m, err := up.Load(o.IO, o.File)
	if err != nil {
		return err
	}
	fns, err := up.Select(m, o.Names)
	if err != nil {
		return err
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	for _, fn := range fns {
		err := eng.Remove(ctx, fn.Name)
		switch {
		case fault.KindOf(err) == fault.NotFound:
			o.IO.Infof("%s is not deployed: nothing to remove", fn.Name)
			continue
		case err != nil:
			return fmt.Errorf("%s: %w", fn.Name, err)
		}
		o.IO.Successf("removed %s", fn.Name)
		if _, err := fmt.Fprintln(o.IO.Out, fn.Name); err != nil {
			return err
		}
	}
	return nil
}
