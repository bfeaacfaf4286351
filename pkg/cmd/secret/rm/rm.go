// Package rm is `faas secret rm NAME...`.
package rm

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas secret rm`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Names   []string
}

// NewCmd returns `faas secret rm`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "rm NAME...",
		Short: "Remove secrets",
		Long: `Remove the secrets NAME... A function deployed with one of them fails
at its next start until it is set again or deployed without it
(faas deploy --secret NAME-): rm says which functions those are.`,
		Args: cmdutil.RangeArgs(1, 64, "the NAME of a secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range args {
				if err := function.ValidateSecretName(n); err != nil {
					return err
				}
			}
			opts.Names = args
			return runF(cmd.Context(), opts)
		},
	}
	return cmd
}

// Run removes the secrets, stopping at the first that fails.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	for _, n := range o.Names {
		used, err := eng.RemoveSecret(ctx, n)
		if err != nil {
			return err
		}
		o.IO.Successf("removed secret %s", n)
		if len(used) > 0 {
			o.IO.Warnf("%s read %s: their next start fails until it is set again or they are deployed with --secret %s-",
				strings.Join(used, ", "), n, n)
		}
	}
	return nil
}
