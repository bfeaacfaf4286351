// Package prune is `faas jobs prune`.
package prune

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas jobs prune`.
type Options struct {
	IO     *iostreams.IOStreams
	Local  func() (*engine.Engine, error)
	Before time.Time
	DryRun bool
	Output string
}

// Result is the JSON of `faas jobs prune -o json`.
type Result struct {
	Before time.Time `json:"before"`
	DryRun bool      `json:"dry_run"`
	Jobs   int64     `json:"jobs"`
	Bytes  int64     `json:"bytes"`
}

// NewCmd returns `faas jobs prune`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Local: f.Local}
	var before string
	cmd := &cobra.Command{
		Use:   "prune --before DATE",
		Short: "Delete ended jobs queued before a date",
		Long: `Delete the records of ended jobs (completed, failed, timeout, lost) queued
before DATE, with their payloads, results and logs; jobs still waiting or
running are kept. Bills do not change: they are made from the daily usage
roll-ups, which are kept. DATE is YYYY-MM-DD (midnight, local time) or an
RFC 3339 time. --dry-run only counts.

faas serve and the autoscale watcher do this by themselves for jobs older
than the jobs.retention setting (default ` + engine.DefaultRetention + `; 0 keeps them forever):
see faas config list.`,
		Example: `  faas jobs prune --before 2026-10-01 --dry-run
  faas jobs prune --before 2026-10-01 -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseDate(before)
			if err != nil {
				return err
			}
			opts.Before = t
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "prune jobs queued before this date: YYYY-MM-DD or RFC 3339 (required)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "count what would be pruned, delete nothing")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fault.Usagef("--before DATE is required: the jobs queued before it are pruned (YYYY-MM-DD, such as 2026-10-01)")
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fault.Usagef("--before %q: use YYYY-MM-DD, such as 2026-10-01, or an RFC 3339 time", s)
}

// Run prunes, or counts.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Local()
	if err != nil {
		return err
	}
	r, err := eng.PruneJobs(ctx, o.Before, o.DryRun, 0)
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, Result{Before: r.Before.UTC(), DryRun: r.DryRun, Jobs: r.Jobs, Bytes: r.Bytes})
	}
	verb := "pruned"
	if r.DryRun {
		verb = "would prune"
	}
	size := cmdutil.Bytes(r.Bytes)
	if r.Bytes == 0 {
		size = "0B"
	}
	o.IO.Successf("%s %d jobs queued before %s (%s of payloads, results and logs); bills keep their totals",
		verb, r.Jobs, r.Before.Format(time.RFC3339), size)
	return nil
}
