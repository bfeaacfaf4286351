package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// run is one faas process: what it printed, how it exited, its pid.
type run struct {
	stdout, stderr string
	code, pid      int
}

func runFaas(t *testing.T, home string, env []string, args ...string) run {
	t.Helper()
	cmd := faasCmd(t, home, args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String(), pid: cmd.Process.Pid}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("faas %v: %v", args, err)
	}
	return r
}

var jobIDRE = regexp.MustCompile(`[0-9a-z]{16}`)

// TestFastInvokeRecordsAsTheFullPath invokes the same functions through
// the full path (FAAS_FAST_INVOKE=0) and through the fast path (a call
// handed to the warm agent, which FAAS_DEBUG's line proves), and checks
// that they print the same, exit the same and record the same job: every
// field but the id, the times and what they measure, and the runner, which
// is in both cases the faas invoke process itself.
func TestFastInvokeRecordsAsTheFullPath(t *testing.T) {
	home := t.TempDir()
	t.Cleanup(func() { scripttest.StopAgents(home) })
	dir := t.TempDir()
	files := map[string]string{
		"hello.py": "def handler(event, context):\n    print('greeting', event.get('name'))\n    return {'message': 'Hello, %s!' % event.get('name', 'world')}\n",
		"boom.py":  "import time\ndef handler(event, context):\n    print('about to fail')\n    time.sleep(event.get('sleep', 0))\n    return 1 / 0\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runFaas(t, home, nil, "deploy", filepath.Join(dir, name), "--timeout", "1s")
		if r.code != 0 {
			t.Fatalf("deploy %s: %s", name, r.stderr)
		}
		// The first call starts the instance (the full path: no agent yet).
		runFaas(t, home, nil, "invoke", strings.TrimSuffix(name, ".py"), "-d", "{}")
	}
	calls := []struct {
		args []string
		code int
	}{
		{[]string{"invoke", "hello", "-d", `{"name":"Ada"}`}, 0},
		{[]string{"invoke", "boom", "-d", "{}"}, 1},
		{[]string{"invoke", "boom", "-d", `{"sleep": 3}`}, 124},
		{[]string{"invoke", "hello", "-o", "json", "-d", `{"name":"Bob"}`}, 0},
	}
	st, err := sqlite.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range calls {
		latest := func() store.Job {
			t.Helper()
			jobs, err := st.ListJobs(context.Background(), store.JobFilter{Function: c.args[1], Limit: 1})
			if err != nil || len(jobs) != 1 {
				t.Fatalf("jobs: %v %d", err, len(jobs))
			}
			j, err := st.GetJob(context.Background(), jobs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		var rec [2]store.Job // full, fast
		full := runFaas(t, home, []string{"FAAS_FAST_INVOKE=0", "FAAS_DEBUG=1"}, c.args...)
		rec[0] = latest()
		// A timeout kills the warm worker: warm one again, so that both
		// calls find one.
		runFaas(t, home, nil, "invoke", c.args[1], "-d", "{}")
		fast := runFaas(t, home, []string{"FAAS_DEBUG=1"}, c.args...)
		rec[1] = latest()
		if strings.Contains(full.stderr, "handed to the warm agent") {
			t.Fatalf("%v: FAAS_FAST_INVOKE=0 took the fast path: %s", c.args, full.stderr)
		}
		handed := "faas: invoke handed to the warm agent on " + filepath.Join(home, "run", "invoke-"+c.args[1]+".sock") + "\n"
		if !strings.HasSuffix(fast.stderr, handed) {
			t.Fatalf("%v: the fast path was not taken: %q", c.args, fast.stderr)
		}
		fast.stderr = strings.TrimSuffix(fast.stderr, handed)
		if full.code != c.code || fast.code != c.code {
			t.Errorf("%v: exit %d (full) and %d (fast), want %d", c.args, full.code, fast.code, c.code)
		}
		for i, r := range []run{full, fast} {
			if rec[i].RunnerPID != r.pid {
				t.Errorf("%v: job %s's runner is %d, want the faas process %d", c.args, rec[i].ID, rec[i].RunnerPID, r.pid)
			}
		}
		if c.code == 0 && !strings.Contains(c.args[2], "-o") {
			if full.stdout != fast.stdout {
				t.Errorf("%v: stdout %q (full) and %q (fast)", c.args, full.stdout, fast.stdout)
			}
		}
		if got, want := strings.ReplaceAll(fast.stderr, rec[1].ID, "ID"), strings.ReplaceAll(full.stderr, rec[0].ID, "ID"); got != want {
			t.Errorf("%v: stderr %q (fast), want %q", c.args, got, want)
		}
		fn, err := st.GetFunction(context.Background(), c.args[1])
		if err != nil {
			t.Fatal(err)
		}
		cfg := fn.Current.Config
		for i := range rec {
			j := &rec[i]
			// The price is the sheet's for what the job measured.
			ch := billing.Default().Charge(billing.Usage{Duration: j.Duration, InitMS: j.InitMS, Cold: j.Cold,
				MemoryMB: j.MemoryMB, CPUs: cfg.CPUs, DiskMB: cfg.DiskMB})
			if j.BilledMS != ch.BilledMS || j.RequestPico != int64(ch.Request) || j.ComputePico != int64(ch.Compute) {
				t.Errorf("job %s: billed %d ms, %d + %d pico; the sheet says %+v", j.ID, j.BilledMS, j.RequestPico, j.ComputePico, ch)
			}
			if j.Duration <= 0 || j.StartedAt.Before(j.QueuedAt) || j.EndedAt.Before(j.StartedAt) {
				t.Errorf("job %s: times %v %v %v, duration %v", j.ID, j.QueuedAt, j.StartedAt, j.EndedAt, j.Duration)
			}
			// What differs from one run to the next.
			j.ID, j.QueuedAt, j.StartedAt, j.EndedAt, j.Duration = "", time.Time{}, time.Time{}, time.Time{}, 0
			j.BilledMS, j.ComputePico, j.PeakMemoryBytes, j.RunnerPID, j.RunnerStart = 0, 0, 0, 0, 0
			if c.code == 124 {
				// "killed after 1s" either way; the logs say what ran meanwhile.
				j.Logs = nil
			}
		}
		if d := diffJobs(rec[0], rec[1]); d != "" {
			t.Errorf("%v: the fast path's record differs from the full path's: %s", c.args, d)
		}
		if c.code == 0 && jobIDRE.MatchString(fast.stderr) {
			t.Errorf("%v: stderr %q", c.args, fast.stderr)
		}
	}
}

// TestFastInvokeDiesOfSIGPIPE: a faas whose stdout is a closed pipe dies
// of SIGPIPE at its first write (the Go runtime's rule for fds 1 and 2);
// so does a call handed to the agent, and it prints nothing more.
func TestFastInvokeDiesOfSIGPIPE(t *testing.T) {
	home := t.TempDir()
	t.Cleanup(func() { scripttest.StopAgents(home) })
	fn := filepath.Join(t.TempDir(), "hi.py")
	if err := os.WriteFile(fn, []byte("def handler(event, context):\n    return 'hi'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"deploy", fn}, {"invoke", "hi"}} {
		if r := runFaas(t, home, nil, args...); r.code != 0 {
			t.Fatalf("faas %v: %s", args, r.stderr)
		}
	}
	for _, env := range [][]string{{"FAAS_FAST_INVOKE=0"}, {"FAAS_DEBUG=1"}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cmd := faasCmd(t, home, "invoke", "hi")
		cmd.Env = append(cmd.Env, env...)
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = w, &errb
		err = cmd.Run()
		w.Close()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGPIPE {
			t.Errorf("%v: %v, want death by SIGPIPE; stderr %q", env, err, errb.String())
		}
		if want := strings.Contains(env[0], "DEBUG"); want != strings.Contains(errb.String(), "handed to the warm agent") {
			t.Errorf("%v: stderr %q", env, errb.String())
		}
	}
}

// diffJobs names the fields in which a and b differ.
func diffJobs(a, b store.Job) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var d []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			d = append(d, fmt.Sprintf("%s: %v vs %v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface()))
		}
	}
	return strings.Join(d, "; ")
}
