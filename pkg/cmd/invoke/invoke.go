// Package invoke is `faas invoke NAME`.
package invoke

import (
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
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)

	Name     string
	Data     string
	HasData  bool
	Timeout  time.Duration
	Output   string
	Async    bool
	Retries  int
	Callback string
	// Runner is the process the call runs for, when not this one.
	Runner cmdutil.Runner
}

// NewCmd returns the invoke command; runF replaces the run in tests.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend, Runner: f.Runner}
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Run a function and record the job",
		Long: `Run the function NAME once, wait for it, and record the invocation as a job.

The payload is -d DATA, -d @FILE (-d @- for stdin), or stdin when it is
piped. stdout carries the function's result and nothing else; -o json prints
the whole job record instead. The exit code says how it went: 0 completed,
1 the function failed, 124 it timed out, 2 bad input, 3 platform error,
4 no such function.

--async queues the job and prints only its id; the server's dispatcher (or,
without a server, a background dispatcher) runs it. Wait for it with
` + "`faas jobs wait ID`" + `. --retries N runs a failed async job again up to N
times; every run is billed. --callback URL posts the result to URL when the
job ends, with X-Faas-Job-Id and X-Faas-Status headers (loopback and private
addresses only when ` + "`faas config set callbacks.allow CIDR`" + ` allows them).`,
		Example: `  faas invoke hello -d '{"name":"Ada"}'
  echo '{"n": 3}' | faas invoke square
  faas invoke resize -d @photo.json -o json | jq .status
  id=$(faas invoke --async --retries 2 report) && faas jobs wait "$id"
  faas invoke --async --callback https://hooks.example.com/done report`,
		Args: cmdutil.ExactArgs(1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.HasData = cmd.Flags().Changed("data")
			if opts.Timeout < 0 {
				return fault.Usagef("--timeout %s: use a positive duration such as 30s", opts.Timeout)
			}
			if opts.Retries != 0 && !opts.Async {
				return fault.WithHint(fault.Usagef("--retries applies to async invocations"), "add --async")
			}
			if opts.Callback != "" && !opts.Async {
				return fault.WithHint(fault.Usagef("--callback applies to async invocations"), "add --async")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	cmd.Flags().StringVarP(&opts.Data, "data", "d", "", "payload: DATA, @FILE, or @- for stdin")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "override the function's timeout for this call")
	cmd.Flags().BoolVar(&opts.Async, "async", false, "queue the job and print its id")
	cmd.Flags().IntVar(&opts.Retries, "retries", 0, "with --async: run a failed job again up to N times")
	cmd.Flags().StringVar(&opts.Callback, "callback", "", "with --async: post the result to this URL when the job ends")
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
	payload, err := o.payload()
	if err != nil {
		return err
	}
	if o.Async {
		return o.submit(ctx, payload)
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	stop := o.IO.Progress("invoking " + o.Name)
	job, err := eng.Invoke(ctx, engine.InvokeRequest{Name: o.Name, Payload: payload, Timeout: o.Timeout,
		RunnerPID: o.Runner.PID, RunnerStart: o.Runner.Start})
	stop()
	if err != nil {
		if job.ID != "" {
			// As the record says: a worker lost mid-call leaves it lost.
			status := store.StatusFailed
			if job.Status == store.StatusLost || job.Status == store.StatusTimeout {
				status = job.Status
			}
			return fault.WithHint(err, "the job "+job.ID+" is recorded as "+status)
		}
		return err
	}
	return cmdutil.WriteJobResult(o.IO, job, o.Output)
}

// submit queues the job and prints its id (or, with -o json, its record).
func (o *Options) submit(ctx context.Context, payload []byte) error {
	b, err := o.Backend()
	if err != nil {
		return err
	}
	job, err := b.Submit(ctx, engine.SubmitRequest{Name: o.Name, Payload: payload, Timeout: o.Timeout, Retries: o.Retries, Callback: o.Callback})
	if err != nil {
		return err
	}
	if err := b.EnsureQueueRunner(ctx); err != nil {
		return fault.WithHint(err, "the job "+job.ID+" is queued; it runs when `faas serve` or another dispatcher starts")
	}
	if o.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(o.IO.Out, api.Queued{JobID: job.ID, Status: job.Status})
	}
	_, err = fmt.Fprintln(o.IO.Out, job.ID)
	return err
}
