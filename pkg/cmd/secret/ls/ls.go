// Package ls is `faas secret ls`.
package ls

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas secret ls`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Now     func() time.Time
	Output  string
}

// NewCmd returns `faas secret ls`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List secrets: names, sizes, dates and users, never values",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run lists the secrets.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	secs, err := eng.ListSecrets(ctx)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		out := make([]api.Secret, len(secs))
		for i, s := range secs {
			out[i] = api.NewSecret(s)
		}
		return cmdutil.WriteJSON(o.IO.Out, out)
	}
	tty, now := o.IO.IsStdoutTTY(), o.Now()
	t := o.IO.NewTable("NAME", "SIZE", "UPDATED", "USED BY")
	for _, s := range secs {
		t.AddRow(s.Name, strconv.Itoa(s.Size)+"B", cmdutil.Timestamp(tty, now, s.UpdatedAt), strings.Join(s.UsedBy, ","))
	}
	return t.Render()
}
