// Package cmdtest checks a command's flags and arguments the gh way: the
// command is built with a runF that keeps the options its RunE filled and
// validated, so nothing runs, opens a database or prints.
package cmdtest

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// NewCmd is a command's constructor: pkg/cmd/<verb>.NewCmd.
type NewCmd[O any] func(f *cmdutil.Factory, runF func(context.Context, *O) error) *cobra.Command

// Parse runs the command with args on a factory with test streams and no
// backend, and returns the options its RunE handed to runF (nil if it
// failed first) and the error. Flag errors are usage errors, as under the
// root command.
func Parse[O any](t testing.TB, newCmd NewCmd[O], args ...string) (*O, error) {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	var got *O
	cmd := newCmd(&cmdutil.Factory{IOStreams: io}, func(_ context.Context, o *O) error {
		got = o
		return nil
	})
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetArgs(args)
	cmd.SetOut(io.Out)
	cmd.SetErr(io.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	return got, err
}

// Row is one line of a flag table: the arguments, and what get (see
// Table) reads from the options they make, or Usage if they are bad.
type Row[V any] struct {
	Args []string
	Want V
	// Usage: the command must refuse the arguments with a usage error
	// (exit 2) before anything runs.
	Usage bool
}

// Table parses each row's arguments and compares get(options) with Want,
// or checks that the error is a usage error.
func Table[O, V any](t *testing.T, newCmd NewCmd[O], get func(*O) V, rows []Row[V]) {
	t.Helper()
	for _, r := range rows {
		t.Run(strings.Join(r.Args, " "), func(t *testing.T) {
			o, err := Parse(t, newCmd, r.Args...)
			if r.Usage {
				if fault.KindOf(err) != fault.Usage || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
					t.Fatalf("%q: got %v (exit %d), want a usage error", r.Args, err, cmdutil.ExitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", r.Args, err)
			}
			if got := get(o); !reflect.DeepEqual(got, r.Want) {
				t.Fatalf("%q:\n got %+v\nwant %+v", r.Args, got, r.Want)
			}
		})
	}
}

// Values is a get for Table: a copy of the options without their
// dependencies (the IOStreams and the func fields), so what is compared is
// what the flags and arguments set.
func Values[O any](o *O) O {
	c := *o
	v := reflect.ValueOf(&c).Elem()
	io := reflect.TypeFor[*iostreams.IOStreams]()
	for i := range v.NumField() {
		if f := v.Field(i); f.CanSet() && (f.Kind() == reflect.Func || f.Type() == io) {
			f.SetZero()
		}
	}
	return c
}
