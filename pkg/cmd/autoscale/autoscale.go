// Package autoscale is `faas autoscale start|stop|status|run|events`.
package autoscale

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// NewCmd returns `faas autoscale`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "autoscale <command>",
		Short: "The autoscale watcher: resize, scale out and in, scale to zero",
		Long: `The autoscale watcher samples every instance each tick (autoscale.tick),
marks jobs of dead processes lost, forgets instances that are gone, and
applies the policy to every function: double an instance's CPUs, memory and
disk when CPU or memory holds above the threshold for the window; add
instances when jobs in flight per slot exceed the target (at once in a
burst), remove idle ones below it; scale to zero after autoscale.idle
without jobs unless min_instances > 0; keep min_instances started. Every
decision is a scale event (faas autoscale events, faas top). Settings:
faas config list (autoscale.*) and faas deploy --min-instances/--max-instances.`,
	}
	home := func() (string, error) { return faashome.Resolve() }
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the watcher in the background",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			if _, err := f.Engine(); err != nil { // the database, before the watcher needs it
				return err
			}
			pid, err := engine.StartWatcher(h)
			if err != nil {
				return err
			}
			f.IOStreams.Successf("autoscale watcher started (pid %d); log: %s", pid, faashome.WatcherLog(h))
			return nil
		},
	}
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the watcher (it finishes its tick)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			was, err := engine.StopWatcher(h)
			if err != nil {
				return err
			}
			if was {
				f.IOStreams.Successf("autoscale watcher stopped")
			} else {
				f.IOStreams.Infof("the autoscale watcher was not running")
			}
			return nil
		},
	}
	var statusOut string
	status := &cobra.Command{
		Use:   "status",
		Short: "Say whether the watcher runs, since when, and its last tick",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			st := engine.ReadWatcher(h)
			if statusOut == cmdutil.OutputJSON {
				return cmdutil.WriteJSON(f.IOStreams.Out, st)
			}
			_, err = fmt.Fprintln(f.IOStreams.Out, st.String())
			return err
		},
	}
	cmdutil.AddOutputFlag(status, &statusOut)
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the watcher in the foreground (for systemd)",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Engine()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return eng.RunWatcher(ctx, f.IOStreams.ErrOut)
		},
	}
	var evFunction, evSince, evOut string
	events := &cobra.Command{
		Use:   "events",
		Short: "List scale events, newest first",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := f.Engine()
			if err != nil {
				return err
			}
			since := time.Time{}
			if evSince != "" {
				d, err := time.ParseDuration(evSince)
				if err != nil || d < 0 {
					return fault.Usagef("invalid --since %q: use a duration such as 1h", evSince)
				}
				since = time.Now().Add(-d)
			}
			evs, err := eng.Store.ScaleEvents(cmd.Context(), evFunction, since, 1000)
			if err != nil {
				return err
			}
			if evOut == cmdutil.OutputJSON {
				if evs == nil {
					evs = []store.ScaleEvent{}
				}
				return cmdutil.WriteJSON(f.IOStreams.Out, evs)
			}
			t := f.IOStreams.NewTable("TIME", "FUNCTION", "INSTANCE", "KIND", "REASON", "OUTCOME")
			for _, ev := range evs {
				t.AddRow(ev.Time.Local().Format(time.RFC3339), ev.Function, ev.Instance, ev.Kind, ev.Reason, ev.Outcome)
			}
			return t.Render()
		},
	}
	events.Flags().StringVar(&evFunction, "function", "", "only this function's events")
	events.Flags().StringVar(&evSince, "since", "", "only events since a duration ago (1h)")
	cmdutil.AddOutputFlag(events, &evOut)
	cmd.AddCommand(start, stop, status, run, events)
	return cmd
}
