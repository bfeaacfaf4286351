// Package autoscale is `faas autoscale start|stop|status|run|events`.
package autoscale

import (
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/autoscale/events"
	"github.com/faasdev/faas/pkg/cmd/autoscale/run"
	"github.com/faasdev/faas/pkg/cmd/autoscale/start"
	"github.com/faasdev/faas/pkg/cmd/autoscale/status"
	"github.com/faasdev/faas/pkg/cmd/autoscale/stop"
	"github.com/faasdev/faas/pkg/cmdutil"
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
	cmd.AddCommand(start.NewCmd(f, nil), stop.NewCmd(f, nil), status.NewCmd(f, nil), run.NewCmd(f, nil), events.NewCmd(f, nil))
	return cmd
}
