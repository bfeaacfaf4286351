package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/fault"
)

// Exit codes: the contract scripts rely on (`faas help exit-codes`).
const (
	ExitOK          = 0
	ExitFunction    = 1
	ExitUsage       = 2
	ExitPlatform    = 3
	ExitNotFound    = 4
	ExitTimeout     = 124
	ExitInterrupted = 130
)

// ExitError ends the command with Code; its message, if any, has been
// printed already or is printed as the error line.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if IsCobraUsage(err) {
		return ExitUsage
	}
	switch fault.KindOf(err) {
	case fault.Usage, fault.Conflict, fault.Unauthorized, fault.TooLarge:
		return ExitUsage
	case fault.NotFound:
		return ExitNotFound
	case fault.Function:
		return ExitFunction
	}
	return ExitPlatform
}

// IsCobraUsage recognises the errors cobra makes itself for unknown
// commands (cobra has no type for them).
func IsCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// FlagErrorFunc makes every flag parsing error a usage error.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	return fault.WithHint(fault.Usagef("%w", err), fmt.Sprintf("see `%s --help`", cmd.CommandPath()))
}

// ExactArgs is cobra.ExactArgs with usage errors that name the arguments.
func ExactArgs(n int, what string) cobra.PositionalArgs { return RangeArgs(n, n, what) }

// RangeArgs is cobra.RangeArgs with usage errors that name the arguments.
func RangeArgs(least, most int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= least && len(args) <= most {
			return nil
		}
		if len(args) < least {
			return fault.WithHint(fault.Usagef("%s needs %s", cmd.CommandPath(), what), fmt.Sprintf("see `%s --help`", cmd.CommandPath()))
		}
		return fault.WithHint(fault.Usagef("%s takes %s, got %d arguments", cmd.CommandPath(), what, len(args)), fmt.Sprintf("see `%s --help`", cmd.CommandPath()))
	}
}

// NoArgs rejects positional arguments with a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fault.WithHint(fault.Usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0]), fmt.Sprintf("see `%s --help`", cmd.CommandPath()))
}
