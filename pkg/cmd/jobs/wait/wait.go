// Package wait is `faas jobs wait ID`.
package wait

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas jobs wait`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	ID      string
	Timeout time.Duration
	Output  string
}

// NewCmd returns `faas jobs wait`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for a job to end, print its result and exit with its code",
		Long: `Block until the job ID ends, then print its result on stdout (the whole
record with -o json) and exit as ` + "`faas invoke`" + ` would have: 0 completed, 1 the
function failed, 124 it timed out, 3 the platform failed or the job was lost.
With --timeout, a job still waiting or running then exits 124 and prints
nothing on stdout.`,
		Example: `  id=$(faas invoke --async resize -d @photo.json)
  faas jobs wait "$id" > out.json`,
		Args: cmdutil.ExactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.Timeout < 0 {
				return fault.Usagef("--timeout %s: use a positive duration such as 30s, or 0 for no limit", opts.Timeout)
			}
			if opts.ID == "" || len(opts.ID) > 64 {
				return fault.Usagef("invalid job id %q", opts.ID)
			}
			return runF(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteJobIDs(f),
	}
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "give up after this long (0: wait as long as it takes)")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "result", cmdutil.OutputJSON)
	return cmd
}

// Run waits for the job and ends as it did.
func Run(ctx context.Context, o *Options) error {
	b, err := o.Backend()
	if err != nil {
		return err
	}
	stop := o.IO.Progress("waiting for " + o.ID)
	j, err := b.WaitJob(ctx, o.ID, o.Timeout)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return &cmdutil.ExitError{Code: cmdutil.ExitInterrupted}
		}
		return err
	}
	if !j.Ended() {
		fmt.Fprintf(o.IO.ErrOut, "%s job %s is still %s after %s\n", o.IO.Styles().Error.Render("error:"), j.ID, j.Status, o.Timeout)
		return &cmdutil.ExitError{Code: cmdutil.ExitTimeout}
	}
	return cmdutil.WriteJobResult(o.IO, j, o.Output)
}
