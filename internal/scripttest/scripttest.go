// Package scripttest holds what faas' testscript suites share: the
// per-script setup (its own FAAS_HOME and HOME, agents stopped at the end)
// and the custom commands.
package scripttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/pkg/spare"
)

// Setup gives a script its own FAAS_HOME and HOME, and stops the agents it
// started when it ends.
func Setup(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, ".faas")
	env.Setenv("FAAS_HOME", home)
	env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
	// A race-built faas sleeps a second at exit by default; scripts run
	// hundreds of them. Races are still reported as they happen.
	env.Setenv("GORACE", strings.TrimSpace("atexit_sleep_ms=0 "+os.Getenv("GORACE")))
	// Agents outlive the commands that start them; stop this script's when
	// it ends, as the idle timeout would later.
	env.Defer(func() { StopAgents(home) })
	// A second home, for scripts that run a second server ($FAAS_HOME2).
	home2 := filepath.Join(env.WorkDir, ".faas2")
	env.Setenv("FAAS_HOME2", home2)
	env.Defer(func() { StopAgents(home2) })
	// Jailed functions see the script's directory, writable, so that a
	// script and its functions can meet in files; hostile scripts unset it.
	env.Setenv("FAAS_JAIL_SHARE", env.WorkDir)
	if err := os.Chmod(env.WorkDir, 0o777); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
}

// Cmds are the custom commands: exits, noproc, pidof, json, waitfile, sumeq,
// waitfor, envfile, waitserver, http, termserver, waitrefused, hookserver,
// waitjson, submit, waitlines, runsonce.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exits":       cmdExits,
		"noproc":      cmdNoProc,
		"pidof":       cmdPidOf,
		"json":        cmdJSON,
		"waitfile":    cmdWaitFile,
		"waitspare":   cmdWaitSpare,
		"sumeq":       cmdSumEq,
		"waitfor":     cmdWaitFor,
		"envfile":     cmdEnvFile,
		"waitserver":  cmdWaitServer,
		"http":        cmdHTTP,
		"termserver":  cmdTermServer,
		"waitrefused": cmdWaitRefused,
		"hookserver":  cmdHookServer,
		"waitjson":    cmdWaitJSON,
		"submit":      cmdSubmit,
		"waitlines":   cmdWaitLines,
		"runsonce":    cmdRunsOnce,
		"waitsql":     cmdWaitSQL,
		"repeat":      cmdRepeat,
		"concurrent":  cmdConcurrent,
		"jobs":        cmdJobs,
		"stamp":       cmdStamp,
		"agentsin":    cmdAgentsIn,
		"freeport":    cmdFreePort,
		"waitport":    cmdWaitPort,
		"netns":       cmdNetns,
	}
}

// cmdExits runs a program and checks its exit code: `exits 124 faas invoke slow`.
// Its stdout and stderr are kept for the next stdout/stderr check. For faas
// exiting 2, 3 or 4 it also checks the error contract.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d\nstderr: %s", strings.Join(args[1:], " "), got, want, ts.ReadFile("stderr"))
	}
	// The error contract: bad input, platform and not-found failures print
	// nothing on stdout and exactly one line, "error: …", on stderr, after
	// a manifest's errors, FILE:LINE:COLUMN: … each.
	if args[1] == "faas" && (want == 2 || want == 3 || want == 4) {
		stderr, stdout := ts.ReadFile("stderr"), ts.ReadFile("stdout")
		last := diagnostics.ReplaceAllString(stderr, "")
		if !strings.HasPrefix(last, "error: ") || strings.Count(last, "\n") != 1 || !strings.HasSuffix(last, "\n") {
			ts.Fatalf("want one line \"error: …\" on stderr, got %q", stderr)
		}
		if stdout != "" {
			ts.Fatalf("want nothing on stdout, got %q", stdout)
		}
	}
}

// diagnostics are the lines that may come before an error line.
var diagnostics = regexp.MustCompile(`(?m)\A(?:[^\s:]+:\d+:\d+: .*\n)+`)

// cmdNoProc waits (up to 10 s) until no process' command line contains
// the pattern, and fails if one still does: killing is asynchronous.
// `! noproc PATTERN` checks at once that one does.
func cmdNoProc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: noproc PATTERN")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := matching(args[0])
		if neg {
			if len(found) == 0 {
				ts.Fatalf("no process matches %q", args[0])
			}
			return
		}
		if len(found) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("processes left behind:\n%s", strings.Join(found, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdPidOf sets VAR to the pid of the one process whose command line
// contains PATTERN: `pidof AGENT 'agent --instance local-victim-1'`.
func cmdPidOf(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: pidof VAR PATTERN...")
	}
	// Every pattern must match: one can scope the others to the script's
	// own $WORK, as other tests' processes may run beside it.
	found := matching(args[1])
	for _, p := range args[2:] {
		found = slices.DeleteFunc(found, func(l string) bool { return !strings.Contains(l, p) })
	}
	if len(found) != 1 {
		ts.Fatalf("pidof: %d processes match %q:\n%s", len(found), args[1:], strings.Join(found, "\n"))
	}
	pid, _, _ := strings.Cut(found[0], ":")
	ts.Setenv(args[0], pid)
}

func matching(pattern string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		line := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(line, pattern) && !strings.Contains(line, "noproc") {
			found = append(found, e.Name()+": "+line)
		}
	}
	return found
}

// cmdJSON checks a value in the last stdout, parsed as JSON:
// `json PATH OP VALUE` where PATH is dotted (0.status, length of an array
// is PATH.#), OP is == (string form equal), ~ (contains), len (length of
// the string form), > or < (numbers).
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: json PATH OP VALUE")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	v, err := jsonAt(v, args[0])
	if err != nil {
		ts.Fatalf("json: %v", err)
	}
	got := fmt.Sprint(v)
	if f, ok := v.(float64); ok {
		got = strconv.FormatFloat(f, 'f', -1, 64)
	}
	op, want := args[1], args[2]
	var ok bool
	switch op {
	case "==":
		ok = got == want
	case "~":
		ok = strings.Contains(got, want)
	case "len":
		n, err := strconv.Atoi(want)
		if err != nil {
			ts.Fatalf("json: len wants a number, got %q", want)
		}
		ok = len(got) == n
	case ">", "<":
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			ts.Fatalf("json: %s %s %s: not numbers", got, op, want)
		}
		ok = (op == ">" && g > w) || (op == "<" && g < w)
	default:
		ts.Fatalf("json: unknown op %q", op)
	}
	if ok == neg {
		ts.Fatalf("json %s: got %q, want %s %q", args[0], got, op, want)
	}
}

// cmdWaitFile waits until a file exists (`waitfile PATH`) or is gone
// (`! waitfile PATH`). It gives up after a minute, so a broken script fails
// instead of hanging.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] waitfile PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(path); (err == nil) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear (or go) within a minute", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdWaitSpare waits (up to a minute) until $FAAS_HOME has a free spare
// agent (pkg/spare), other than the ids named after VAR, and sets VAR to
// its id.
func cmdWaitSpare(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: waitspare VAR [ID_TO_SKIP...]")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		m, _ := filepath.Glob(filepath.Join(spare.Root(ts.Getenv("FAAS_HOME")), "spare-*", "free"))
		for _, f := range m {
			if id := filepath.Base(filepath.Dir(f)); !slices.Contains(args[1:], id) {
				ts.Setenv(args[0], id)
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitspare: no spare became free within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StopAgents ends the agents (and the autoscale watcher) whose home is,
// or is under, home: a
// FAAS_HOME, or the directory of the stand-in multipass's VMs.
func StopAgents(home string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && args[1] == "agent" && strings.Contains(string(b), "\x00--home\x00"+home) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
		// An autoscale watcher, server or dispatcher of this FAAS_HOME.
		if len(args) > 2 && args[1] == "autoscale" && args[2] == "run" || len(args) > 1 && (args[1] == "serve" || args[1] == "dispatch") {
			env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if strings.Contains("\x00"+string(env), "\x00FAAS_HOME="+home+"\x00") {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	}
}

// jsonAt walks a dotted path (array indices, # for an array's length).
func jsonAt(v any, path string) (any, error) {
	for _, p := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case []any:
			if p == "#" {
				v = float64(len(cur))
				continue
			}
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(cur) {
				return nil, fmt.Errorf("no element %q in an array of %d", p, len(cur))
			}
			v = cur[i]
		case map[string]any:
			x, ok := cur[p]
			if !ok {
				return nil, fmt.Errorf("no key %q", p)
			}
			v = x
		default:
			return nil, fmt.Errorf("cannot index %T with %q", v, p)
		}
	}
	return v, nil
}

// cmdSumEq checks that a number in one JSON file equals the sum of a field
// over the array in another: `sumeq bill.json total.total_pico jobs.json cost_pico`.
// Numbers are compared as exact integers.
func cmdSumEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: sumeq FILE PATH ARRAYFILE FIELD")
	}
	read := func(file string) any {
		dec := json.NewDecoder(strings.NewReader(ts.ReadFile(file)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			ts.Fatalf("%s is not JSON: %v", file, err)
		}
		return v
	}
	want, err := jsonAt(read(args[0]), args[1])
	if err != nil {
		ts.Fatalf("sumeq: %v", err)
	}
	arr, ok := read(args[2]).([]any)
	if !ok {
		ts.Fatalf("sumeq: %s is not an array", args[2])
	}
	var sum int64
	for _, e := range arr {
		x, err := jsonAt(e, args[3])
		if err != nil {
			ts.Fatalf("sumeq: %v", err)
		}
		n, err := x.(json.Number).Int64()
		if err != nil {
			ts.Fatalf("sumeq: %v is not an integer", x)
		}
		sum += n
	}
	w, err := want.(json.Number).Int64()
	if err != nil {
		ts.Fatalf("sumeq: %v is not an integer", want)
	}
	if (w == sum) == neg {
		ts.Fatalf("sumeq: %s %s is %d, the sum of %s over %s is %d", args[0], args[1], w, args[3], args[2], sum)
	}
}

// cmdWaitFor waits until a file contains a regular expression:
// `waitfor FILE PATTERN [TIMEOUT]`; it gives up after TIMEOUT (a minute).
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitfor FILE PATTERN [TIMEOUT]")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitfor: %v", err)
	}
	path := ts.MkAbs(args[0])
	limit := time.Minute
	if len(args) == 3 {
		if limit, err = time.ParseDuration(args[2]); err != nil {
			ts.Fatalf("waitfor: %v", err)
		}
	}
	deadline := time.Now().Add(limit)
	for {
		b, _ := os.ReadFile(path)
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not match %q within %s; it holds:\n%s", args[0], args[1], limit, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
