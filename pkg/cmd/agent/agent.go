// Package agent is the hidden `faas agent` command that runs inside every
// instance.
package agent

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	agentpkg "github.com/faasdev/faas/pkg/agent"
	"github.com/faasdev/faas/pkg/cmd/agent/guest"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// NewCmd returns `faas agent`: the guest's command, with what a local
// agent runs beside its server: a connection to the SQLite database held
// open, and the fast path of `faas invoke` for its function.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return guest.NewCmd(f.IOStreams.ErrOut, func(home string, cfg agentpkg.Config) (io.Closer, error) {
		db, err := sqlite.Hold(home)
		if err != nil {
			return nil, err
		}
		inv, err := serveInvokes(f, home, cfg.Function)
		if err == nil && cfg.Function == "" {
			// A spare: its engine open before the call that claims it.
			go func() { _, _ = inv.engine() }()
		}
		if err != nil {
			// Without it `faas invoke` takes the full path.
			fmt.Fprintf(f.IOStreams.ErrOut, "%s fast invoke not served: %v\n", cfg.Instance, err)
			return db, nil
		}
		return closers{inv, db}, nil
	})
}

type closers []io.Closer

// Stop stops what stops without waiting (a spare's fast invoke socket).
func (cs closers) Stop() {
	for _, c := range cs {
		if s, ok := c.(interface{ Stop() }); ok {
			s.Stop()
		}
	}
}

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
