// Package agent is the hidden `faas agent` command that runs inside every
// instance.
package agent

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmd/agent/guest"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// NewCmd returns `faas agent`: the guest's command, with --hold-db served
// by the SQLite store (local instances).
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return guest.NewCmd(f.IOStreams.ErrOut, func(home string) (io.Closer, error) { return sqlite.Hold(home) })
}
