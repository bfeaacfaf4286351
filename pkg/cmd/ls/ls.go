// Package ls is `faas ls`.
package ls

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas ls`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Output  string
	Now     func() time.Time
}

// NewCmd returns the ls command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List deployed functions",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run lists.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	fns, err := eng.Functions(ctx)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		out := make([]api.Function, 0, len(fns))
		for _, f := range fns {
			out = append(out, api.NewFunction(f))
		}
		return cmdutil.WriteJSON(o.IO.Out, out)
	}
	if len(fns) == 0 {
		o.IO.Infof("no functions deployed; deploy one with `faas deploy FILE`")
		return nil
	}
	t := o.IO.NewTable("NAME", "VERSION", "RUNTIME", "MODE", "PROVIDER", "MEMORY", "TIMEOUT", "UPDATED")
	now := o.Now()
	for _, f := range fns {
		c := f.Current.Config
		t.AddRow(f.Name, strconv.Itoa(f.Current.Version), string(c.Runtime), string(c.Mode), f.Provider,
			function.FormatSize(c.MemoryMB), c.Timeout().String(), cmdutil.Timestamp(o.IO.IsStdoutTTY(), now, f.UpdatedAt))
	}
	return t.Render()
}
