// Package show is `faas jobs show ID`.
package show

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/cmd/jobs/shared"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas jobs show`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	ID      string
	Output  string
}

// NewCmd returns `faas jobs show`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one job: its record, result and logs",
		Args:  cmdutil.ExactArgs(1, "a job ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runF(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteJobIDs(f),
	}
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run shows a job.
func Run(ctx context.Context, o *Options) error {
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
	field("start", fmt.Sprintf("%s, init %dms", shared.StartKind(j), j.InitMS))
	field("queued", rfc(j.QueuedAt))
	field("started", rfc(j.StartedAt))
	field("ended", rfc(j.EndedAt))
	field("duration", shared.Duration(j))
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
