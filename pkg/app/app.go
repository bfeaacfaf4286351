// Package app runs faas: it builds the command tree, runs it, and maps the
// outcome to the exit code. It is the only place that decides exit codes.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/faasdev/faas/pkg/cmd/root"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Main runs faas with args (without the program name) and returns the exit
// code.
func Main(args []string) int {
	if len(args) > 0 && args[0] == sandbox.SandboxArg {
		return sandbox.SandboxMain(args[1:])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	io := iostreams.System()
	f := cmdutil.New(ctx, io)
	f.Run = Run
	defer f.Close()
	return Run(ctx, f, args)
}

// Run executes args against a factory and reports errors on its stderr.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := root.NewCmdFor(f, args)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	code := cmdutil.ExitCode(err)
	if err != nil && ctx.Err() != nil && code == cmdutil.ExitPlatform {
		code = cmdutil.ExitInterrupted
	}
	// An ExitError without a cause has explained itself already.
	var ee *cmdutil.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Err == nil) {
		msg := err.Error()
		if h := fault.HintOf(err); h != "" {
			msg += "; " + h
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "%s %s\n", f.IOStreams.Styles().Error.Render("error:"), msg)
	}
	return code
}
