// Package events is `faas autoscale events`.
package events

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// Options of `faas autoscale events`.
type Options struct {
	IO       *iostreams.IOStreams
	Engine   func() (*engine.Engine, error)
	Now      func() time.Time
	Function string
	// Since is the --since duration as given: "" for all events.
	Since  string
	Output string
}

// NewCmd returns `faas autoscale events`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Engine: f.Engine, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List scale events, newest first",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := since(opts.Since, time.Time{}); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Function, "function", "", "only this function's events")
	cmd.Flags().StringVar(&opts.Since, "since", "", "only events since a duration ago (1h)")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// since is the time a duration s ago from now; the zero time for "".
func since(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fault.Usagef("invalid --since %q: use a duration such as 1h", s)
	}
	return now.Add(-d), nil
}

// Run lists the events.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	from, err := since(o.Since, o.Now())
	if err != nil {
		return err
	}
	evs, err := eng.ScaleEvents(ctx, o.Function, from, 1000)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		if evs == nil {
			evs = []store.ScaleEvent{}
		}
		return cmdutil.WriteJSON(o.IO.Out, evs)
	}
	t := o.IO.NewTable("TIME", "FUNCTION", "INSTANCE", "KIND", "REASON", "OUTCOME")
	for _, ev := range evs {
		t.AddRow(ev.Time.Local().Format(time.RFC3339), ev.Function, ev.Instance, ev.Kind, ev.Reason, ev.Outcome)
	}
	return t.Render()
}
