// Package multipass is the Multipass provider: each instance is a VM,
// launched, fed, resized and retired through the `multipass` CLI, with the
// faas agent inside it serving invocations over TCP with a bearer token.
package multipass

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// Runner runs the multipass CLI: argv only, never a shell, a timeout per
// call, stderr kept for the error.
type Runner struct {
	// Bin is the multipass executable.
	Bin string
	// Debug, when set, receives each command line (faas --debug).
	Debug io.Writer
}

// CmdError is a multipass command that failed.
type CmdError struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *CmdError) Error() string {
	// Errors are one line: multipass' detail lines are folded in.
	msg := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(e.Stderr), "\n", " ")), " ")
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Code)
	}
	return "multipass " + e.Args[0] + ": " + msg
}

// Run runs `multipass ARGS...` and returns its stdout.
func (r *Runner) Run(ctx context.Context, timeout time.Duration, args ...string) ([]byte, error) {
	return r.RunInput(ctx, timeout, nil, args...)
}

// RunInput is Run with stdin.
func (r *Runner) RunInput(ctx context.Context, timeout time.Duration, stdin io.Reader, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if r.Debug != nil {
		fmt.Fprintf(r.Debug, "debug: %s %s\n", r.Bin, strings.Join(args, " "))
	}
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err == nil {
		return out.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fault.Platformf("multipass %s: %w within %s", args[0], errNoAnswer, timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.Bytes(), &CmdError{Args: args, Code: ee.ExitCode(), Stderr: errb.String()}
	}
	return nil, fault.Platformf("multipass %s: %w", args[0], err)
}

// daemonDown recognises the failures of a client that cannot reach multipassd.
func daemonDown(err error) bool {
	var ce *CmdError
	if !errors.As(err, &ce) {
		return false
	}
	s := strings.ToLower(ce.Stderr)
	return strings.Contains(s, "cannot connect to the multipass socket") || strings.Contains(s, "multipassd") ||
		strings.Contains(s, "not authenticated") || strings.Contains(s, "authenticate")
}

// platform turns a multipass failure into a platform error with advice.
func platform(err error) error {
	if err == nil {
		return nil
	}
	if daemonDown(err) {
		return fault.WithHint(fault.Platformf("%w", err),
			"start the Multipass daemon (sudo snap start multipass) or authenticate with `multipass authenticate`, or deploy with --provider local")
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Platformf("%w", err)
}
