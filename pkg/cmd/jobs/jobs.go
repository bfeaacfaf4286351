// Package jobs is `faas jobs`, the list of recent jobs, and the parent of
// `faas jobs show` and `faas jobs wait`.
package jobs

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmd/jobs/prune"
	"github.com/faasdev/faas/pkg/cmd/jobs/shared"
	"github.com/faasdev/faas/pkg/cmd/jobs/show"
	"github.com/faasdev/faas/pkg/cmd/jobs/wait"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// ListOptions of `faas jobs`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Now     func() time.Time
	Filter  store.JobFilter
	Output  string
}

// NewCmd returns `faas jobs` with its subcommands; runF replaces the list
// in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	if runF == nil {
		runF = RunList
	}
	opts := &ListOptions{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List recent invocations",
		Long: `List jobs (invocations), newest first. A job still marked running whose
process has died is marked lost first. Ended jobs are kept for the
jobs.retention setting (default ` + engine.DefaultRetention + `), then pruned: see faas jobs prune.`,
		Example: `  faas jobs --function hello --status failed
  faas jobs -o json | jq '.[] | select(.cold) | .duration_ms'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Filter.Function, "function", "", "only jobs of this function")
	cmd.Flags().StringVar(&opts.Filter.Status, "status", "", "only jobs with this status: "+strings.Join(store.Statuses, "|"))
	cmd.Flags().StringVar(&opts.Filter.Trigger, "trigger", "", "only jobs started by: "+strings.Join(faastype.Triggers, "|"))
	cmd.Flags().IntVar(&opts.Filter.Limit, "limit", 20, "at most this many jobs (0: all)")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	_ = cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return store.Statuses, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("function", cmdutil.CompleteFunctionNames(f))
	_ = cmd.RegisterFlagCompletionFunc("trigger", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return faastype.Triggers, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.AddCommand(show.NewCmd(f, nil), wait.NewCmd(f, nil), prune.NewCmd(f, nil))
	return cmd
}

// RunList lists jobs.
func RunList(ctx context.Context, o *ListOptions) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	jobs, err := eng.Jobs(ctx, o.Filter)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		out := make([]api.Job, 0, len(jobs))
		for _, j := range jobs {
			out = append(out, api.NewJob(j, false))
		}
		return cmdutil.WriteJSON(o.IO.Out, out)
	}
	if len(jobs) == 0 {
		o.IO.Infof("no jobs")
		return nil
	}
	tty := o.IO.IsStdoutTTY()
	now := o.Now()
	st := o.IO.Styles()
	t := o.IO.NewTable("ID", "FUNCTION", "VERSION", "STATUS", "START", "DURATION", "MEMORY", "PEAK", "STARTED")
	for _, j := range jobs {
		status := j.Status
		if tty {
			switch j.Status {
			case store.StatusCompleted:
				status = st.Success.Render(status)
			case store.StatusFailed, store.StatusTimeout, store.StatusLost:
				status = st.Error.Render(status)
			}
		}
		t.AddRow(j.ID, j.Function, strconv.Itoa(j.Version), status, shared.StartKind(j), shared.Duration(j),
			strconv.FormatInt(j.MemoryMB, 10)+"M", cmdutil.Bytes(j.PeakMemoryBytes), cmdutil.Timestamp(tty, now, j.QueuedAt))
	}
	return t.Render()
}
