package cmdutil_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", fault.Usagef("bad flag"), 2},
		{"not found", fault.NotFoundf("no such function"), 4},
		{"platform", fault.Platformf("disk full"), 3},
		{"function", fault.Functionf("pip install failed"), 1},
		{"wrapped function", fmt.Errorf("deploy: %w", fault.Functionf("npm ci failed")), 1},
		{"plain error", errors.New("boom"), 3},
		{"exit error 124", &cmdutil.ExitError{Code: 124}, 124},
		{"exit error 1 with message", &cmdutil.ExitError{Code: 1, Err: errors.New("function failed")}, 1},
		{"exit error wins over its usage cause", &cmdutil.ExitError{Code: 130, Err: fault.Usagef("x")}, 130},
		{"exit error zero code", &cmdutil.ExitError{Code: 0}, 0},
		{"wrapped usage", fmt.Errorf("deploy: %w", fault.Usagef("bad name")), 2},
		{"wrapped not found", fmt.Errorf("invoke: %w", fault.NotFoundf("gone")), 4},
		{"wrapped twice not found", fmt.Errorf("a: %w", fmt.Errorf("b: %w", fault.NotFoundf("gone"))), 4},
		{"wrapped platform", fmt.Errorf("store: %w", fault.Platformf("locked")), 3},
		{"wrapped exit error", fmt.Errorf("invoke: %w", &cmdutil.ExitError{Code: 124}), 124},
		{"hinted not found", fault.WithHint(fault.NotFoundf("gone"), "run faas ls"), 4},
		{"hinted usage", fault.WithHint(fault.Usagef("bad"), "see --help"), 2},
		{"hinted plain error", fault.WithHint(errors.New("boom"), "retry"), 3},
		{"cobra unknown command", errors.New(`unknown command "fly" for "faas"`), 2},
		{"not quite cobra", errors.New(`error: unknown command "fly"`), 3},
		{"wrapped with %v loses kind", fmt.Errorf("x: %v", fault.Usagef("bad")), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cmdutil.ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestExitCodeConstants(t *testing.T) {
	got := []int{cmdutil.ExitOK, cmdutil.ExitFunction, cmdutil.ExitUsage, cmdutil.ExitPlatform,
		cmdutil.ExitNotFound, cmdutil.ExitTimeout, cmdutil.ExitInterrupted}
	want := []int{0, 1, 2, 3, 4, 124, 130}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exit code constants = %v, want %v (documented contract)", got, want)
	}
}

func TestExitError(t *testing.T) {
	cause := errors.New("killed after 30 s")
	e := &cmdutil.ExitError{Code: 124, Err: cause}
	if e.Error() != "killed after 30 s" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is(ExitError, cause) = false, want true")
	}
	bare := &cmdutil.ExitError{Code: 1}
	if bare.Error() != "exit 1" {
		t.Errorf("bare Error() = %q, want %q", bare.Error(), "exit 1")
	}
	if bare.Unwrap() != nil {
		t.Errorf("bare Unwrap() = %v, want nil", bare.Unwrap())
	}
}

func TestFlagErrorFunc(t *testing.T) {
	root := &cobra.Command{Use: "faas"}
	sub := &cobra.Command{Use: "deploy"}
	root.AddCommand(sub)
	cause := errors.New("unknown flag: --nope")
	err := cmdutil.FlagErrorFunc(sub, cause)
	if cmdutil.ExitCode(err) != 2 || fault.KindOf(err) != fault.Usage {
		t.Errorf("FlagErrorFunc error: exit %d kind %v, want 2 Usage", cmdutil.ExitCode(err), fault.KindOf(err))
	}
	if !errors.Is(err, cause) {
		t.Error("FlagErrorFunc does not wrap the cause")
	}
	if h := fault.HintOf(err); h != "see `faas deploy --help`" {
		t.Errorf("hint = %q", h)
	}
}

func TestArgsValidators(t *testing.T) {
	cmd := &cobra.Command{Use: "invoke"}
	exact := cmdutil.ExactArgs(1, "a function name")
	tests := []struct {
		name    string
		check   func() error
		wantErr string
	}{
		{"exact ok", func() error { return exact(cmd, []string{"fn"}) }, ""},
		{"exact too few", func() error { return exact(cmd, nil) }, "invoke needs a function name"},
		{"exact too many", func() error { return exact(cmd, []string{"a", "b"}) }, "got 2 arguments"},
		{"no args ok", func() error { return cmdutil.NoArgs(cmd, nil) }, ""},
		{"no args given one", func() error { return cmdutil.NoArgs(cmd, []string{"x"}) }, `got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("exit code %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitUsage)
			}
		})
	}
}

func TestAddOutputFlag(t *testing.T) {
	tests := []struct {
		name    string
		formats []string
		args    []string
		want    string
		wantErr string
	}{
		{name: "default", args: nil, want: "table"},
		{name: "json long", args: []string{"--output", "json"}, want: "json"},
		{name: "json short", args: []string{"-o", "json"}, want: "json"},
		{name: "equals form", args: []string{"--output=table"}, want: "table"},
		{name: "unknown", args: []string{"--output", "yaml"}, wantErr: `unknown format "yaml"`},
		{name: "unknown short", args: []string{"-o", "xml"}, wantErr: `unknown format "xml"`},
		{name: "case matters", args: []string{"-o", "JSON"}, wantErr: "unknown format"},
		{name: "empty", args: []string{"--output="}, wantErr: "unknown format"},
		{name: "custom default", formats: []string{"json", "ndjson"}, want: "json"},
		{name: "custom second", formats: []string{"json", "ndjson"}, args: []string{"-o", "ndjson"}, want: "ndjson"},
		{name: "custom rejects table", formats: []string{"json", "ndjson"}, args: []string{"-o", "table"}, wantErr: "use json or ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := &cobra.Command{Use: "ls", RunE: func(*cobra.Command, []string) error { return nil }}
			var out string
			cmdutil.AddOutputFlag(cmd, &out, tt.formats...)
			def := "table"
			if len(tt.formats) > 0 {
				def = tt.formats[0]
			}
			if out != def {
				t.Fatalf("after AddOutputFlag target = %q, want default %q", out, def)
			}
			err := cmd.ParseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				if out != def {
					t.Errorf("rejected value changed target to %q", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags(%q): %v", tt.args, err)
			}
			if out != tt.want {
				t.Errorf("output = %q, want %q", out, tt.want)
			}
		})
	}
}

func TestAddOutputFlagUsageExitAndCompletion(t *testing.T) {
	ran := false
	cmd := &cobra.Command{Use: "ls", RunE: func(*cobra.Command, []string) error { ran = true; return nil }}
	var out string
	cmdutil.AddOutputFlag(cmd, &out)
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetArgs([]string{"-o", "yaml"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if ran {
		t.Error("command ran despite a bad --output value")
	}
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
		t.Errorf("Execute with bad --output: err %v exit %d, want %d", err, code, cmdutil.ExitUsage)
	}

	f := cmd.Flags().Lookup("output")
	if f == nil || f.Shorthand != "o" || f.Value.Type() != "format" || f.DefValue != "table" {
		t.Fatalf("output flag = %+v", f)
	}
	complete, ok := cmd.GetFlagCompletionFunc("output")
	if !ok {
		t.Fatal("no completion registered for --output")
	}
	got, dir := complete(cmd, nil, "")
	if !reflect.DeepEqual(got, []string{"table", "json"}) || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("completion = %q, %v", got, dir)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := cmdutil.WriteJSON(&buf, map[string]string{"html": "<a>&"}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"html\": \"<a>&\"\n}\n"
	if buf.String() != want {
		t.Errorf("WriteJSON = %q, want %q", buf.String(), want)
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-1, "-"},
		{0, "-"},
		{1, "1B"},
		{1023, "1023B"},
		{1024, "1.0KiB"},
		{1536, "1.5KiB"},
		{10 * 1024, "10.0KiB"},
		{1 << 20, "1.0MiB"},
		{48 << 20, "48.0MiB"},
		{(1 << 20) + (1 << 19), "1.5MiB"},
		{1 << 30, "1.0GiB"},
		{5<<30 + 1<<29, "5.5GiB"},
		{1 << 40, "1.0TiB"},
	}
	for _, tt := range tests {
		if got := cmdutil.Bytes(tt.in); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBytesUnitBoundary shows counts just below a unit printed as 1024.0 of
// the smaller unit.
func TestBytesUnitBoundary(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{1<<20 - 1, "1.0MiB"},
		{1<<30 - 1, "1.0GiB"},
	}
	for _, tt := range tests {
		if got := cmdutil.Bytes(tt.in); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		tty  bool
		t    time.Time
		want string
	}{
		{"zero piped", false, time.Time{}, "-"},
		{"zero tty", true, time.Time{}, "-"},
		{"piped UTC", false, time.Date(2026, 11, 3, 10, 4, 5, 0, time.UTC), "2026-11-03T10:04:05Z"},
		{"piped other zone is printed in UTC", false, time.Date(2026, 11, 3, 11, 4, 5, 0, berlin), "2026-11-03T10:04:05Z"},
		{"piped drops sub-seconds", false, time.Date(2026, 11, 3, 10, 4, 5, 999_000_000, time.UTC), "2026-11-03T10:04:05Z"},
		{"tty seconds ago", true, now.Add(-30 * time.Second), "just now"},
		{"tty in the future", true, now.Add(time.Hour), "just now"},
		{"tty one minute", true, now.Add(-time.Minute), "1 minute ago"},
		{"tty five minutes", true, now.Add(-5*time.Minute - 59*time.Second), "5 minutes ago"},
		{"tty 59 minutes", true, now.Add(-59 * time.Minute), "59 minutes ago"},
		{"tty one hour", true, now.Add(-time.Hour), "1 hour ago"},
		{"tty 47 hours", true, now.Add(-47 * time.Hour), "47 hours ago"},
		{"tty 48 hours", true, now.Add(-48 * time.Hour), "2 days ago"},
		{"tty 10 days", true, now.Add(-10 * 24 * time.Hour), "10 days ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cmdutil.Timestamp(tt.tty, now, tt.t); got != tt.want {
				t.Errorf("Timestamp(%v, %v) = %q, want %q", tt.tty, tt.t, got, tt.want)
			}
		})
	}
	if got := cmdutil.Ago(now, time.Time{}); got != "-" {
		t.Errorf("Ago(zero) = %q, want -", got)
	}
}
