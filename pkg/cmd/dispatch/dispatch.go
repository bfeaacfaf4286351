// Package dispatch is the hidden `faas dispatch`: the background runner of
// queued jobs when no `faas serve` runs, started by `faas invoke --async`.
package dispatch

import (
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/dispatcher"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/logging"
)

// NewCmd returns `faas dispatch`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var idle time.Duration
	var workers int
	var logFormat string
	cmd := &cobra.Command{
		Use:    "dispatch",
		Short:  "Run queued jobs until the queue has been empty for a while",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := logging.Format(logFormat)
			if err != nil {
				return fault.Usagef("--log-format: %v", err)
			}
			eng, err := f.Local()
			if err != nil {
				return err
			}
			// The command's context ends on SIGTERM and SIGINT (pkg/app).
			return dispatcher.RunDetached(cmd.Context(), eng, eng.Home, workers, idle, logging.New(f.IOStreams.ErrOut, format).With("component", "dispatcher"))
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", 2*time.Second, "exit after the queue has been empty this long")
	cmd.Flags().IntVar(&workers, "workers", max(4, 2*runtime.NumCPU()), "jobs run at once")
	cmd.Flags().StringVar(&logFormat, "log-format", "", logging.Flag)
	return cmd
}
