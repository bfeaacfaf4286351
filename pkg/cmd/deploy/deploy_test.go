package deploy

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/iostreams"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmd(&cmdutil.Factory{IOStreams: io}, func(_ context.Context, o *Options) error {
		got = o
		return nil
	})
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	return got, err
}

func TestFlagsBecomeARequest(t *testing.T) {
	o, err := parse(t, "fn.py", "--name", "f", "--runtime", "NODE", "--mode", "script", "--memory", "1G",
		"--cpus", "2", "--disk", "10G", "--timeout", "90s", "--concurrency", "4", "--min-instances", "1",
		"--max-instances", "3", "--env", "A=1", "--env", "B=x=y", "--provider", "local")
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.request()
	if err != nil {
		t.Fatal(err)
	}
	c := r.Config
	if r.Name != "f" || r.Filename != "fn.py" || r.Runtime != function.Node || r.Mode != function.Script || r.Provider != "local" ||
		c.MemoryMB != 1024 || c.CPUs != 2 || c.DiskMB != 10240 || c.TimeoutMS != 90000 || c.Concurrency != 4 ||
		c.MinInstances != 1 || c.MaxInstances != 3 || c.Env["A"] != "1" || c.Env["B"] != "x=y" {
		t.Fatalf("request %+v", r)
	}
}

func TestDefaults(t *testing.T) {
	o, err := parse(t, "fn.py")
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.request()
	if err != nil {
		t.Fatal(err)
	}
	if r.Runtime != "" || r.Mode != "" || r.Config.MemoryMB != function.DefaultMemoryMB || r.Config.Timeout() != 30*time.Second || o.Output != "name" {
		t.Fatalf("request %+v output %q", r, o.Output)
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fn.py", "--memory", "12Q"}, {"fn.py", "--timeout", "-1s"}, {"fn.py", "--runtime", "cobol"},
		{"fn.py", "--mode", "x"}, {"fn.py", "--env", "NOPE"}, {"fn.py", "--disk", ""},
	} {
		o, err := parse(t, args...)
		if err == nil {
			_, err = o.request()
		}
		if fault.KindOf(err) != fault.Usage {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"fn.py", "--cpus", "two"}, {"fn.py", "-o", "yaml"}, {"fn.py", "--nope"}} {
		if _, err := parse(t, args...); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%q: got %v (exit %d), want exit 2", args, err, cmdutil.ExitCode(err))
		}
	}
}
