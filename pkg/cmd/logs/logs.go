// Package logs is `faas logs NAME`.
package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas logs`.
type Options struct {
	IO        *iostreams.IOStreams
	Engine    func() (*engine.Engine, error)
	Backend   func() (cmdutil.Backend, error)
	Now       func() time.Time
	Name      string
	JobID     string
	Follow    bool
	Since     string
	Tail      int
	Instances bool
	Build     bool
	Output    string
}

// NewCmd returns the logs command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Engine: f.Engine, Backend: f.Backend, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "logs [NAME]",
		Short: "Show what a function printed",
		Long: `Show the logs of a function's recent jobs (its stderr, and what a handler
printed), oldest first, or of one job with --job.

-f follows: it starts at now (add --since or --tail to see earlier lines
first) and prints each line as the function prints it, also from jobs still
running, across instances as they come and go, until Ctrl-C (exit 130).
With FAAS_SERVER set the server streams them (the same output).

On a terminal each line is prefixed with its time, job and instance; piped,
lines are tab-separated: time (RFC 3339), job, instance, line. -o json prints
one JSON object per line (NDJSON): time, job_id, instance, function, line.
Stored lines carry their job's start time. Invalid UTF-8 and control
characters are shown escaped; lines over 64 KiB are cut with a marker.
--instances shows the instances' own logs: start-up, crashes, stops.
--build shows what the current version's dependency build printed.`,
		Example: `  faas logs hello
  faas logs hello --job 01m89ymac19x8b32
  faas logs hello -f
  faas logs hello --since 10m --tail 50 -o json | jq -r .line`,
		Args: cmdutil.RangeArgs(0, 1, "the NAME of a function"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			} else if opts.JobID == "" || opts.Build {
				// A job names its function; without one, the NAME is needed.
				return fault.WithHint(fault.Usagef("faas logs needs the NAME of a function, or --job ID"), "see `faas logs --help`")
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
		ValidArgsFunction: cmdutil.CompleteFunctionNames(f),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.JobID, "job", "", "only this job's logs")
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "print new lines as they are written")
	fl.StringVar(&opts.Since, "since", "", "only jobs since a duration ago (10m) or a time (RFC 3339)")
	fl.IntVar(&opts.Tail, "tail", 0, "only the last N lines (0: all)")
	fl.BoolVar(&opts.Instances, "instances", false, "the instances' own logs instead")
	fl.BoolVar(&opts.Build, "build", false, "the current version's dependency build log instead")
	cmdutil.AddOutputFlag(cmd, &opts.Output, cmdutil.OutputTable, cmdutil.OutputJSON)
	return cmd
}

// parseSince reads 10m (ago) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fault.Usagef("invalid --since %q: use a duration such as 10m or a time such as 2026-11-25T18:00:00Z", s)
}

// validate checks the flags that need no I/O.
func (o *Options) validate() error {
	if _, err := parseSince(o.Since, o.Now()); err != nil {
		return err
	}
	if o.Tail < 0 {
		return fault.Usagef("--tail %d: use 0 (all) or more", o.Tail)
	}
	if o.Build && (o.Follow || o.JobID != "" || o.Instances || o.Since != "" || o.Tail != 0) {
		return fault.Usagef("--build shows a whole build log: it goes with no other flag but -o")
	}
	if o.Follow && o.JobID != "" {
		return fault.Usagef("--follow and --job do not go together: a job's logs are complete when it ends")
	}
	return nil
}

// Run prints logs.
func Run(ctx context.Context, o *Options) error {
	since, err := parseSince(o.Since, o.Now())
	if err != nil {
		return err
	}
	if o.Build {
		b, err := o.Backend()
		if err != nil {
			return err
		}
		log, err := b.BuildLog(ctx, o.Name)
		if err != nil {
			return err
		}
		if o.Output == cmdutil.OutputJSON {
			return cmdutil.WriteJSON(o.IO.Out, map[string]string{"function": o.Name, "build_log": string(log)})
		}
		_, err = o.IO.Out.Write(log)
		return err
	}
	if o.Instances {
		// Instance logs and following read the instances themselves: only
		// where they run.
		eng, err := o.Engine()
		if err != nil {
			return err
		}
		lines, err := eng.InstanceLogs(ctx, o.Name, o.Tail)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if o.Output == cmdutil.OutputJSON {
				if err := json.NewEncoder(o.IO.Out).Encode(l); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(o.IO.Out, "%s\t%s\n", l.Instance, safe(l.Line))
		}
		return nil
	}
	// Following reads the instances where they run: here, or through
	// FAAS_SERVER's stream. Say so before printing anything if neither can.
	var fl follower
	if o.Follow {
		b, err := o.Backend()
		if err != nil {
			return err
		}
		var ok bool
		if fl, ok = b.(follower); !ok {
			return fault.Usagef("this backend cannot follow logs")
		}
	}
	p := printer{io: o.IO, json: o.Output == cmdutil.OutputJSON, enc: json.NewEncoder(o.IO.Out)}
	start := o.Now()
	// The jobs whose lines were read from the records: they ended, and
	// following does not print them again.
	printed := map[string]bool{}
	if !o.Follow || o.Since != "" || o.Tail > 0 {
		b, err := o.Backend()
		if err != nil {
			return err
		}
		lines, err := b.Logs(ctx, engine.LogsRequest{Function: o.Name, JobID: o.JobID, Since: since, Tail: o.Tail})
		if err != nil {
			return err
		}
		for _, l := range lines {
			printed[l.JobID] = true
			if err := p.print(l); err != nil {
				return err
			}
		}
	}
	if !o.Follow {
		return nil
	}
	// With --since, a job still running (not in the records yet) shows
	// what it printed since then too: the instances keep its recent lines.
	if o.Since != "" && o.Tail == 0 {
		start = since
	}
	if err := fl.FollowLogs(ctx, o.Name, start, func(l faastype.LogLine) {
		if !printed[l.JobID] {
			_ = p.print(l)
		}
	}); err != nil {
		return err
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitInterrupted}
}

// follower follows a function's logs: the engine here, or a server's
// stream (pkg/remote).
type follower interface {
	FollowLogs(ctx context.Context, name string, since time.Time, fn func(faastype.LogLine)) error
}

type printer struct {
	io   *iostreams.IOStreams
	json bool
	enc  *json.Encoder
}

func (p printer) print(l faastype.LogLine) error {
	if p.json {
		l.Line = strings.ToValidUTF8(l.Line, "\uFFFD")
		return p.enc.Encode(l)
	}
	var w io.Writer = p.io.Out
	if p.io.IsStdoutTTY() {
		st := p.io.Styles()
		prefix := fmt.Sprintf("%s %s %s", l.Time.Local().Format("15:04:05.000"), short(l.JobID), l.Instance)
		_, err := fmt.Fprintf(w, "%s %s\n", st.Muted.Render(prefix), safe(l.Line))
		return err
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", l.Time.UTC().Format(time.RFC3339Nano), l.JobID, l.Instance, safe(l.Line))
	return err
}

func short(id string) string {
	if len(id) > 10 {
		return id[len(id)-6:]
	}
	return id
}

// safe makes a line fit for a terminal or a tab-separated stream: invalid
// UTF-8 and control characters (but tab) are escaped, so binary output can
// neither break the columns nor drive the terminal; a line over 64 KiB is
// cut with a marker.
func safe(s string) string {
	const limit = 64 << 10
	cut := 0
	if len(s) > limit {
		cut = len(s) - limit
		s = s[:limit]
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if cut > 0 {
		fmt.Fprintf(&b, " [faas: line cut, %d more bytes]", cut)
	}
	return b.String()
}
