// Package invoke is `faas invoke NAME`.
package invoke

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// Options are the parsed flags and the dependencies of an invoke.
type Options struct {
	IO     *iostreams.IOStreams
	Engine func() (*engine.Engine, error)

	Name    string
	Data    string
	HasData bool
	Timeout time.Duration
	Output  string
}

// NewCmd returns the invoke command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Run a function and record the job",
		Long: `Run the function NAME once, wait for it, and record the invocation as a job.

The payload is -d DATA, -d @FILE (-d @- for stdin), or stdin when it is
piped. stdout carries the function's result and nothing else; -o json prints
the whole job record instead. The exit code says how it went: 0 completed,
1 the function failed, 124 it timed out, 2 bad input, 3 platform error,
4 no such function.`,
		Example: `  faas invoke hello -d '{"name":"Ada"}'
  echo '{"n": 3}' | faas invoke square
  faas invoke resize -d @photo.json -o json | jq .status`,
		Args: cmdutil.ExactArgs(1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.HasData = cmd.Flags().Changed("data")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	cmd.Flags().StringVarP(&opts.Data, "data", "d", "", "payload: DATA, @FILE, or @- for stdin")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "override the function's timeout for this call")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "result", cmdutil.OutputJSON)
	return cmd
}

// payload reads the payload from the flag, a file or stdin.
func (o *Options) payload() ([]byte, error) {
	limit := int64(engine.PayloadLimit)
	readAll := func(r io.Reader, what string) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if errors.Is(err, syscall.EBADF) {
			// A closed stdin is no payload.
			return nil, nil
		}
		if err != nil {
			return nil, fault.Usagef("read payload from %s: %v", what, err)
		}
		if int64(len(b)) > limit {
			return nil, fault.Usagef("payload from %s is over the %d MiB limit", what, limit>>20)
		}
		return b, nil
	}
	switch {
	case o.HasData && o.Data == "@-":
		return readAll(o.IO.In, "stdin")
	case o.HasData && strings.HasPrefix(o.Data, "@"):
		path := o.Data[1:]
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fault.Usagef("payload file %s: %v", path, errors.Unwrap(err))
		}
		if fi.IsDir() {
			return nil, fault.Usagef("payload file %s is a directory", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fault.Usagef("payload file %s: %v", path, errors.Unwrap(err))
		}
		defer f.Close()
		return readAll(f, path)
	case o.HasData:
		return []byte(o.Data), nil
	case !o.IO.IsStdinTTY() && o.IO.In != nil:
		return readAll(o.IO.In, "stdin")
	}
	return nil, nil
}

// Run invokes and reports.
func Run(ctx context.Context, o *Options) error {
	if o.Timeout < 0 {
		return fault.Usagef("--timeout %s: use a positive duration such as 30s", o.Timeout)
	}
	payload, err := o.payload()
	if err != nil {
		return err
	}
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	stop := o.IO.Progress("invoking " + o.Name)
	job, err := eng.Invoke(ctx, engine.InvokeRequest{Name: o.Name, Payload: payload, Timeout: o.Timeout})
	stop()
	if err != nil {
		if job.ID != "" {
			return fault.WithHint(err, "the job "+job.ID+" is recorded as failed")
		}
		return err
	}
	if o.Output == cmdutil.OutputJSON {
		if err := cmdutil.WriteJSON(o.IO.Out, api.NewJob(job, true)); err != nil {
			return err
		}
	} else if job.Status == store.StatusCompleted {
		if _, err := o.IO.Out.Write(job.Result); err != nil {
			return err
		}
		if o.IO.IsStdoutTTY() && len(job.Result) > 0 && !bytes.HasSuffix(job.Result, []byte("\n")) {
			fmt.Fprintln(o.IO.Out)
		}
	}
	return jobExit(o.IO, job)
}

// jobExit turns a finished job into the command's exit, explaining
// failures on stderr.
func jobExit(io *iostreams.IOStreams, job store.Job) error {
	code := cmdutil.ExitOK
	switch job.Status {
	case store.StatusCompleted:
		return nil
	case store.StatusTimeout:
		code = cmdutil.ExitTimeout
	default:
		code = cmdutil.ExitFunction
		if strings.HasPrefix(job.Error, "interrupted") {
			code = cmdutil.ExitInterrupted
		}
	}
	st := io.Styles()
	fmt.Fprintf(io.ErrOut, "%s function %s %s: %s; see `faas jobs show %s`\n",
		st.Error.Render("error:"), job.Function, job.Status, job.Error, job.ID)
	return &cmdutil.ExitError{Code: code}
}
