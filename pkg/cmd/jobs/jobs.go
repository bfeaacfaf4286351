// Package jobs is `faas jobs` and `faas jobs show ID`.
package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
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

// NewCmd returns `faas jobs` with its `show` subcommand.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List recent invocations",
		Long: `List jobs (invocations), newest first. A job still marked running whose
process has died is marked lost first.`,
		Example: `  faas jobs --function hello --status failed
  faas jobs -o json | jq '.[] | select(.cold) | .duration_ms'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunList(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Filter.Function, "function", "", "only jobs of this function")
	cmd.Flags().StringVar(&opts.Filter.Status, "status", "", "only jobs with this status: "+strings.Join(store.Statuses, "|"))
	cmd.Flags().IntVar(&opts.Filter.Limit, "limit", 20, "at most this many jobs (0: all)")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	_ = cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return store.Statuses, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("function", cmdutil.CompleteFunctionNames(f))
	cmd.AddCommand(newShowCmd(f, nil), newWaitCmd(f, nil))
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
		t.AddRow(j.ID, j.Function, strconv.Itoa(j.Version), status, startKind(j), duration(j),
			strconv.FormatInt(j.MemoryMB, 10)+"M", cmdutil.Bytes(j.PeakMemoryBytes), cmdutil.Timestamp(tty, now, j.QueuedAt))
	}
	return t.Render()
}

func startKind(j store.Job) string {
	if j.Cold {
		return "cold"
	}
	return "warm"
}

func duration(j store.Job) string {
	if !j.Ended() || j.Duration == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(j.Duration.Microseconds())/1000, 'f', 1, 64) + "ms"
}

// ShowOptions of `faas jobs show`.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	ID      string
	Output  string
}

func newShowCmd(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one job: its record, result and logs",
		Args:  cmdutil.ExactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunShow(cmd.Context(), opts)
		},
		ValidArgsFunction: completeJobIDs(f),
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func completeJobIDs(f *cmdutil.Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		b, err := f.Backend()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		jobs, err := b.Jobs(cmd.Context(), store.JobFilter{Limit: 50})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID + "\t" + j.Function + " " + j.Status
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// RunShow shows a job.
func RunShow(ctx context.Context, o *ShowOptions) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	j, err := eng.Job(ctx, o.ID)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, api.NewJob(j, true))
	}
	st := o.IO.Styles()
	w := o.IO.Out
	field := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", st.Bold.Render(k+":"), v) }
	field("job", j.ID)
	field("function", fmt.Sprintf("%s v%d", j.Function, j.Version))
	field("status", j.Status)
	if j.Error != "" {
		field("error", j.Error)
	}
	if j.ExitCode != nil {
		field("exit code", strconv.Itoa(*j.ExitCode))
	}
	field("provider", j.Provider)
	field("instance", j.Instance)
	field("start", fmt.Sprintf("%s, init %dms", startKind(j), j.InitMS))
	field("queued", rfc(j.QueuedAt))
	field("started", rfc(j.StartedAt))
	field("ended", rfc(j.EndedAt))
	field("duration", duration(j))
	field("billed", fmt.Sprintf("%dms", j.BilledMS))
	field("memory", fmt.Sprintf("%dM configured, %s peak", j.MemoryMB, cmdutil.Bytes(j.PeakMemoryBytes)))
	field("request cost", "$"+billing.Pico(j.RequestPico).String())
	field("compute cost", fmt.Sprintf("$%s (%dM × %d ms billed = %s GB-s)", billing.Pico(j.ComputePico),
		j.MemoryMB, j.BilledMS, strconv.FormatFloat(float64(j.MemoryMB*j.BilledMS)/(1024*1000), 'f', -1, 64)))
	field("total cost", "$"+billing.Pico(j.RequestPico+j.ComputePico).String())
	fmt.Fprintf(w, "%s\n%s", st.Bold.Render("result:"), j.Result)
	if len(j.Result) > 0 && j.Result[len(j.Result)-1] != '\n' {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n%s", st.Bold.Render("logs:"), j.Logs)
	if len(j.Logs) > 0 && j.Logs[len(j.Logs)-1] != '\n' {
		fmt.Fprintln(w)
	}
	return nil
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// WaitOptions of `faas jobs wait`.
type WaitOptions struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	ID      string
	Timeout time.Duration
	Output  string
}

func newWaitCmd(f *cmdutil.Factory, runF func(context.Context, *WaitOptions) error) *cobra.Command {
	opts := &WaitOptions{IO: f.IOStreams, Backend: f.Backend}
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunWait(cmd.Context(), opts)
		},
		ValidArgsFunction: completeJobIDs(f),
	}
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "give up after this long (0: wait as long as it takes)")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "result", cmdutil.OutputJSON)
	return cmd
}

// RunWait waits for a job.
func RunWait(ctx context.Context, o *WaitOptions) error {
	if o.Timeout < 0 {
		return fault.Usagef("--timeout %s: use a positive duration such as 30s, or 0 for no limit", o.Timeout)
	}
	if o.ID == "" || len(o.ID) > 64 {
		return fault.Usagef("invalid job id %q", o.ID)
	}
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
