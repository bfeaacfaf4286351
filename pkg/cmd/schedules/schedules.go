// Package schedules is `faas schedules`: the functions that run on a
// schedule, and when each runs next.
package schedules

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas schedules`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Output  string
	Now     func() time.Time
}

// NewCmd returns the schedules command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List the functions that run on a schedule, and their next runs",
		Long: `List the functions deployed with --schedule, soonest next run first.
Schedules fire while ` + "`faas serve`" + ` or the autoscale watcher
(` + "`faas autoscale start`" + `) runs on this home; a tick missed while
neither ran fires once when one starts.`,
		Example: `  faas deploy report.py --schedule 'cron(0 12 * * ? *)' --schedule-tz Europe/Paris
  faas schedules
  faas jobs --trigger schedule`,
		Args: cmdutil.NoArgs,
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
	list := engine.Schedules(fns, o.Now())
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, list)
	}
	if len(list) == 0 {
		o.IO.Infof("no function runs on a schedule; deploy one with --schedule 'rate(5 minutes)'")
		return nil
	}
	tty := o.IO.IsStdoutTTY()
	t := o.IO.NewTable("FUNCTION", "SCHEDULE", "TZ", "NEXT RUN")
	for _, s := range list {
		next := "-"
		switch {
		case s.Next.IsZero():
		case tty:
			next = s.Next.Local().Format("2006-01-02 15:04 MST")
		default:
			next = s.Next.Format(time.RFC3339)
		}
		t.AddRow(s.Function, s.Schedule, s.TZ, next)
	}
	return t.Render()
}
