// Command invoke measures, in one run on one machine, what an invocation
// costs through faas against the fork-per-request floor:
//
//	(a) python3 hello.py run directly (a fresh interpreter),
//	(b) the original design: a new python3 per request, payload passed in,
//	(c) `faas invoke hello` as a whole CLI process against a warm instance,
//	(d) the agent's own round trip for a warm handler, from Go,
//	(e) the first invoke after a deploy (a cold start, whole CLI process)
//	    on a home where a function ran before, so that a spare agent is
//	    free to take over (pkg/spare), and (e0) the same on a home that
//	    keeps no spares, against (p) `/usr/bin/python3 -c pass` run
//	    directly, timed next to
//	    each cold start, and the parts of a cold start timed alone: (e1) a
//	    faas process (`faas version`), (e2) a jailed /bin/true, (e3) a
//	    jailed `python3 -c pass` with the worker's interpreter,
//
// the memory of a warm function: every process of its instance (the
// agent, the jail's init, the worker), RSS and PSS, and the start-up of faas
// against a hello-world Go program built in the same run (startup.go). Run
// it from the
// repository root:
//
//	go run ./bench/invoke [-n 30]
//	go run ./bench/invoke -only startup [-n 100]   # the start-up cases alone
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/agent/client"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/proc"
	_ "github.com/faasdev/faas/pkg/provider/local"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// The same work as a script, for (a).
const script = `import json
print(json.dumps({"message": "Hello, world!"}))
`

func main() {
	n := flag.Int("n", 30, "runs per measurement (≥ 20)")
	rt := flag.Int("rt", 500, "agent round trips for (d)")
	followers := flag.Int("followers", 5, "`faas logs -f` processes attached for (c'), 0 to skip")
	only := flag.String("only", "", "run only one part: startup")
	flag.Parse()
	if *only != "" && *only != "startup" {
		fmt.Fprintln(os.Stderr, "bench: -only startup is the one part that runs alone")
		os.Exit(2)
	}
	if err := run(*n, *rt, *followers, *only == "startup"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type series struct {
	name string
	d    []time.Duration
}

func (s series) q(p float64) time.Duration {
	d := append([]time.Duration(nil), s.d...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func timeCmd(stdin string, env []string, argv ...string) (time.Duration, error) {
	d, _, err := timeProc(stdin, env, "Hello", argv...)
	return d, err
}

// timeProc runs argv as a whole process and returns its wall time and its
// CPU time (user + system); its stdout must contain want.
func timeProc(stdin string, env []string, want string, argv ...string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t := time.Now()
	err = cmd.Run()
	wall = time.Since(t)
	if err != nil {
		return wall, 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, errb.String())
	}
	if !strings.Contains(out.String(), want) {
		return wall, 0, fmt.Errorf("%s printed %q", strings.Join(argv, " "), out.String())
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func repeat(n int, name string, f func(i int) (time.Duration, error)) (series, error) {
	s := series{name: name}
	for i := 0; i < n; i++ {
		d, err := f(i)
		if err != nil {
			return s, err
		}
		s.d = append(s.d, d)
	}
	return s, nil
}

func run(n, rt, followers int, startupOnly bool) error {
	if n < 20 {
		return fmt.Errorf("-n must be at least 20")
	}
	dir, faas, err := benchutil.Setup("faas-bench-", map[string]string{"hello.py": benchutil.Hello, "script.py": script, "original.py": benchutil.Original})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	python, err := exec.LookPath("python3")
	if err != nil {
		return err
	}
	realPy, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	env := benchutil.Env(home, "FAAS_AGENT_IDLE=10m")
	// This home keeps a spare for (e), whatever the default.
	if err := setSpares(faas, env, "1"); err != nil {
		return err
	}
	defer scripttest.StopAgents(home)
	payload := `{"name":"Ada"}`

	if startupOnly {
		cmd := exec.Command(faas, "deploy", filepath.Join(dir, "hello.py"))
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("deploy: %v: %s", err, out)
		}
		defer stopHello(faas, env)
		if _, err := timeCmd("", env, faas, "invoke", "hello", "-d", payload); err != nil {
			return err
		}
		return startup(n, dir, faas, env, payload)
	}
	a, err := repeat(n, "(a) python3 script.py, direct", func(int) (time.Duration, error) {
		return timeCmd("", env, python, filepath.Join(dir, "script.py"))
	})
	if err != nil {
		return err
	}
	a2, err := repeat(n, "(a') the same with "+strings.TrimSpace(string(realPy)), func(int) (time.Duration, error) {
		return timeCmd("", env, strings.TrimSpace(string(realPy)), filepath.Join(dir, "script.py"))
	})
	if err != nil {
		return err
	}
	// The distribution's own interpreter, where there is one and it is not
	// the one above: the fastest-starting Python on many machines.
	var a3 series
	if sys := "/usr/bin/python3"; isExec(sys) && !sameFile(sys, strings.TrimSpace(string(realPy))) {
		if a3, err = repeat(n, "(a'') the same with "+sys, func(int) (time.Duration, error) {
			return timeCmd("", env, sys, filepath.Join(dir, "script.py"))
		}); err != nil {
			return err
		}
	}
	b, err := repeat(n, "(b) original design: python3 per request", func(int) (time.Duration, error) {
		return timeCmd(payload, env, python, filepath.Join(dir, "original.py"), filepath.Join(dir, "hello.py"))
	})
	if err != nil {
		return err
	}
	cmd := exec.Command(faas, "deploy", filepath.Join(dir, "hello.py"))
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("deploy: %v: %s", err, out)
	}
	if _, err := timeCmd("", env, faas, "invoke", "hello", "-d", payload); err != nil {
		return err
	}
	c, err := repeat(n, "(c) faas invoke hello, warm, whole CLI (fast path)", func(int) (time.Duration, error) {
		return timeCmd("", env, faas, "invoke", "hello", "-d", payload)
	})
	if err != nil {
		return err
	}
	// (c') the same with followers attached: following must not slow
	// invocations down.
	var cf series
	if followers > 0 {
		var procs []*exec.Cmd
		for i := 0; i < followers; i++ {
			f := exec.Command(faas, "logs", "hello", "-f")
			f.Env = env
			if err := f.Start(); err != nil {
				return err
			}
			procs = append(procs, f)
		}
		time.Sleep(500 * time.Millisecond) // let them connect
		cf, err = repeat(n, fmt.Sprintf("(c') the same with %d `faas logs -f` followers", followers), func(int) (time.Duration, error) {
			return timeCmd("", env, faas, "invoke", "hello", "-d", payload)
		})
		for _, f := range procs {
			_ = f.Process.Kill()
			_ = f.Wait()
		}
		if err != nil {
			return err
		}
	}
	d, mem, err := agentRoundTrip(home, rt, payload)
	if err != nil {
		return err
	}
	spareMem, err := spareMemory(home)
	if err != nil {
		return err
	}
	parts, err := newColdParts(dir, faas, strings.TrimSpace(string(realPy)))
	if err != nil {
		return err
	}
	// A second home keeps no spares (local.spares 0): its cold starts are
	// those of a home where none can be claimed.
	home0 := filepath.Join(dir, "home-nospares")
	env0 := benchutil.Env(home0, "FAAS_AGENT_IDLE=10m")
	defer scripttest.StopAgents(home0)
	if err := setSpares(faas, env0, "0"); err != nil {
		return err
	}
	e0 := series{name: "(e0) the same on a home with no spare (local.spares 0)"}
	claimed := 0
	// Each cold start is timed with the baseline and the parts next to it,
	// so that the machine's load falls on all of them alike. In this home
	// a function (hello) has run, so its agents keep a spare: each (e)
	// waits until one is free, as a cold start a while after the last
	// launch finds it.
	e, err := repeat(n, "(e) first invoke after a deploy (cold, a spare free), whole CLI", func(i int) (time.Duration, error) {
		name := "cold-" + strconv.Itoa(i)
		for _, en := range [][]string{env, env0} {
			cmd := exec.Command(faas, "deploy", filepath.Join(dir, "hello.py"), "--name", name)
			cmd.Env = en
			if out, err := cmd.CombinedOutput(); err != nil {
				return 0, fmt.Errorf("deploy: %v: %s", err, out)
			}
		}
		id, err := waitSpare(home)
		if err != nil {
			return 0, err
		}
		if err := parts.measure(i, env); err != nil {
			return 0, err
		}
		d, err := timeCmd("", env, faas, "invoke", name, "-d", payload)
		if err != nil {
			return d, err
		}
		if fromSpare(home, "local-"+name+"-1", id) {
			claimed++
		}
		d0, err := timeCmd("", env0, faas, "invoke", name, "-d", payload)
		e0.d = append(e0.d, d0)
		for _, en := range [][]string{env, env0} {
			rm := exec.Command(faas, "rm", name)
			rm.Env = en
			_ = rm.Run()
		}
		return d, err
	})
	if err != nil {
		return err
	}
	defer stopHello(faas, env)

	fmt.Printf("faas invoke benchmark: %d runs each (%d agent round trips), medians; %s\n\n", n, rt, time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| case | p50 ms | p90 ms | p50 / (a) | p50 / (a') |")
	fmt.Println("|---|---:|---:|---:|---:|")
	all := []series{a, a2}
	if a3.d != nil {
		all = append(all, a3)
	}
	rest := []series{b, c}
	if cf.d != nil {
		rest = append(rest, cf)
	}
	for _, s := range append(append(append(all, rest...), d, e, e0), parts.series()...) {
		fmt.Printf("| %s | %s | %s | %.2f | %.2f |\n", s.name, benchutil.MS(s.q(0.5)), benchutil.MS(s.q(0.9)),
			float64(s.q(0.5))/float64(a.q(0.5)), float64(s.q(0.5))/float64(a2.q(0.5)))
	}
	fmt.Println("\nA warm function's processes (hello, idle), from smaps_rollup:")
	fmt.Println("\n| pid | process | RSS MiB | PSS MiB |\n|---:|---|---:|---:|")
	var rss, pss int64
	for _, m := range mem {
		fmt.Printf("| %d | %s | %s | %s |\n", m.pid, m.what, mib(m.rss), mib(m.pss))
		rss, pss = rss+m.rss, pss+m.pss
	}
	fmt.Printf("| | all of them | %s | %s |\n\n", mib(rss), mib(pss))
	fmt.Println("A spare's processes (free, waiting; not counted above), from smaps_rollup:")
	fmt.Println("\n| pid | process | RSS MiB | PSS MiB |\n|---:|---|---:|---:|")
	var srss, spss int64
	for _, m := range spareMem {
		fmt.Printf("| %d | %s | %s | %s |\n", m.pid, m.what, mib(m.rss), mib(m.pss))
		srss, spss = srss+m.rss, spss+m.pss
	}
	fmt.Printf("| | all of them | %s | %s |\n\n", mib(srss), mib(spss))
	check := func(ok bool, what string) {
		v := "MET"
		if !ok {
			v = "NOT MET"
		}
		fmt.Printf("- %s: %s\n", what, v)
	}
	check(c.q(0.5) <= a.q(0.5)/2, fmt.Sprintf("(c) ≤ 0.5 × (a): %.2f×", float64(c.q(0.5))/float64(a.q(0.5))))
	check(c.q(0.5) <= a2.q(0.5)/2, fmt.Sprintf("(c) ≤ 0.5 × (a'), the interpreter without its launcher: %.2f×", float64(c.q(0.5))/float64(a2.q(0.5))))
	if a3.d != nil {
		check(c.q(0.5) <= a3.q(0.5)/2, fmt.Sprintf("(c) ≤ 0.5 × (a''): %.2f×", float64(c.q(0.5))/float64(a3.q(0.5))))
	}
	if cf.d != nil {
		fmt.Printf("- followers: (c') / (c) = %.2f\n", float64(cf.q(0.5))/float64(c.q(0.5)))
	}
	check(d.q(0.5) <= time.Millisecond, "(d) p50 ≤ 1 ms: "+benchutil.MS(d.q(0.5))+" ms")
	check(e.q(0.5) <= a.q(0.5)+50*time.Millisecond, "(e) ≤ (a) + 50 ms: "+benchutil.MS(e.q(0.5))+" vs "+benchutil.MS(a.q(0.5)+50*time.Millisecond)+" ms")
	check(e.q(0.5) <= a2.q(0.5)+50*time.Millisecond, "(e) ≤ (a') + 50 ms: "+benchutil.MS(e.q(0.5))+" vs "+benchutil.MS(a2.q(0.5)+50*time.Millisecond)+" ms")
	check(mem[0].rss <= 20<<20, fmt.Sprintf("idle agent RSS ≤ 20 MB: %s MiB", mib(mem[0].rss)))
	cr := float64(e.q(0.5)) / float64(parts.pass.q(0.5))
	check(cr <= 1.0, fmt.Sprintf("goal 3a, cold (e) ≤ 1.0 × (p) /usr/bin/python3 -c pass: %s vs %s ms, %.2f×",
		benchutil.MS(e.q(0.5)), benchutil.MS(parts.pass.q(0.5)), cr))
	fmt.Printf("- (e): %d of %d cold starts took over a spare (the rest started an agent)\n", claimed, len(e.d))
	cr0 := float64(e0.q(0.5)) / float64(parts.pass.q(0.5))
	fmt.Printf("- (e0) with no spare: %s ms, %.2f × (p)\n", benchutil.MS(e0.q(0.5)), cr0)
	check(rss <= 18<<20, fmt.Sprintf("goal 4, a warm function's processes ≤ 18 MiB RSS: %s MiB (PSS %s MiB)", mib(rss), mib(pss)))
	return startup(n, dir, faas, env, payload)
}

// stopHello removes hello, and so stops its agent.
func stopHello(faas string, env []string) {
	rm := exec.Command(faas, "rm", "hello")
	rm.Env = env
	_ = rm.Run()
}

// agentRoundTrip times POST /invoke on the warm instance of hello, from Go
// over its unix socket, and reads the memory of the idle instance's
// processes (the agent first).
func agentRoundTrip(home string, n int, payload string) (series, []procMem, error) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, home)
	if err != nil {
		return series{}, nil, err
	}
	defer db.Close()
	fn, err := db.GetFunction(ctx, "hello")
	if err != nil {
		return series{}, nil, err
	}
	insts, err := db.ListInstances(ctx, "hello")
	if err != nil || len(insts) == 0 {
		return series{}, nil, fmt.Errorf("no instance of hello: %v", err)
	}
	c := client.New(insts[0].Endpoint, insts[0].Token)
	defer c.Close()
	req := api.NewInvokeRequest(faastype.Invocation{
		Function: fn.Name, Version: fn.Current.Version, SHA256: fn.Current.SHA256, Filename: fn.Current.Filename,
		Code: fn.Current.Code, Config: fn.Current.Config, Payload: []byte(payload),
	})
	s, err := repeat(n, "(d) agent round trip, warm handler, from Go", func(i int) (time.Duration, error) {
		req.JobID = "bench-" + strconv.Itoa(i)
		t := time.Now()
		resp, err := c.Invoke(ctx, req)
		d := time.Since(t)
		if err == nil && resp.Status != "completed" {
			err = fmt.Errorf("round trip: %s %s", resp.Status, resp.Error)
		}
		return d, err
	})
	if err != nil {
		return s, nil, err
	}
	time.Sleep(2 * time.Second) // let the agent settle to idle
	if !proc.Alive(insts[0].PID, insts[0].PIDStart) {
		return s, nil, fmt.Errorf("the agent of hello (pid %d) is gone", insts[0].PID)
	}
	return s, functionMemory(insts[0].PID), nil
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
