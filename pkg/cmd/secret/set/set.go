// Package set is `faas secret set NAME`.
package set

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas secret set`.
type Options struct {
	IO       *iostreams.IOStreams
	Backend  func() (cmdutil.Backend, error)
	Name     string
	FromFile string
	// ReadHidden reads a line from the terminal without echo.
	ReadHidden func() ([]byte, error)
}

// NewCmd returns `faas secret set`; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = Run
	}
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, ReadHidden: readHidden}
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Set a secret from stdin or a file",
		Long: `Set the secret NAME, or give it a new value. The value is read from
--from-file FILE, or stdin: piped, as it is (bytes, not a line), or typed at
a terminal prompt that does not echo (one line, its newline dropped).
A value is 1 byte to 64 KiB. Functions that read it get the new value from
their next start; the warm instances holding the old one are replaced.`,
		Example: `  faas secret set db-password < password.txt
  printf %s "$TOKEN" | faas secret set api-token
  faas secret set tls-key --from-file key.pem`,
		Args: cmdutil.ExactArgs(1, "the NAME of a secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := function.ValidateSecretName(opts.Name); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.FromFile, "from-file", "", "read the value from FILE")
	return cmd
}

// Run sets the secret.
func Run(ctx context.Context, o *Options) error {
	value, err := o.value()
	if err != nil {
		return err
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	created, err := eng.SetSecret(ctx, o.Name, value)
	if err != nil {
		return err
	}
	if created {
		o.IO.Successf("set secret %s (%d bytes)", o.Name, len(value))
	} else {
		o.IO.Successf("updated secret %s (%d bytes)", o.Name, len(value))
	}
	return nil
}

// value reads the value, at most one byte over the limit (which the
// engine refuses, naming it).
func (o *Options) value() ([]byte, error) {
	limit := int64(function.MaxSecretBytes + 1)
	switch {
	case o.FromFile != "":
		f, err := os.Open(o.FromFile)
		if err != nil {
			return nil, fault.Usagef("--from-file: %v", errors.Unwrap(err))
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, limit))
	case o.IO.IsStdinTTY():
		fmt.Fprintf(o.IO.ErrOut, "? Value of %s (not shown): ", o.Name)
		v, err := o.ReadHidden()
		fmt.Fprintln(o.IO.ErrOut)
		if err != nil {
			return nil, fault.Usagef("read the value: %v", err)
		}
		return bytes.TrimRight(v, "\r\n"), nil
	case o.IO.In == nil:
		return nil, fault.WithHint(fault.Usagef("no value: stdin is closed"), "pipe the value in, or use --from-file FILE")
	}
	return io.ReadAll(io.LimitReader(o.IO.In, limit))
}

func readHidden() ([]byte, error) { return term.ReadPassword(os.Stdin.Fd()) }
