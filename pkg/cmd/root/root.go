// Package root assembles the faas command tree.
package root

import (
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/agent"
	"github.com/faasdev/faas/pkg/cmd/bill"
	"github.com/faasdev/faas/pkg/cmd/config"
	"github.com/faasdev/faas/pkg/cmd/deploy"
	"github.com/faasdev/faas/pkg/cmd/invoke"
	"github.com/faasdev/faas/pkg/cmd/jobs"
	"github.com/faasdev/faas/pkg/cmd/ls"
	"github.com/faasdev/faas/pkg/cmd/rm"
	"github.com/faasdev/faas/pkg/cmd/rollback"
	"github.com/faasdev/faas/pkg/cmd/version"
	"github.com/faasdev/faas/pkg/cmdutil"
)

// NewCmd returns the root command with every subcommand.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faas <command>",
		Short: "Serverless functions on your own machine",
		Long: `faas turns a file into a function, runs it on demand in a sandboxed
process (or a Multipass VM), and records every invocation in SQLite.

State lives in $FAAS_HOME (default ~/.local/share/faas).
Exit codes: 0 ok, 1 function failed, 2 usage, 3 platform, 4 not found,
124 function timed out, 130 interrupted.`,
		Example: `  faas deploy examples/hello.py
  faas invoke hello -d '{"name":"Ada"}'
  faas jobs`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version.Current().Version,
	}
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.AddCommand(
		deploy.NewCmd(f, nil),
		invoke.NewCmd(f, nil),
		ls.NewCmd(f, nil),
		rm.NewCmd(f, nil),
		rollback.NewCmd(f, nil),
		jobs.NewCmd(f, nil),
		bill.NewCmd(f, nil),
		config.NewCmd(f),
		version.NewCmd(f),
		agent.NewCmd(f),
	)
	return cmd
}
