package scripttest

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdRepeat runs a command N times in a row, failing at the first that
// fails: `repeat N CMD ARGS...`.
func cmdRepeat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: repeat N CMD ARGS...")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("repeat: bad count %q", args[0])
	}
	for i := range n {
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			ts.Fatalf("repeat: run %d: %v\nstderr: %s", i+1, err, ts.ReadFile("stderr"))
		}
	}
}

// cmdConcurrent runs N copies of a command at once and fails when one
// fails: `concurrent N CMD ARGS...` (their output is not kept).
func cmdConcurrent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: concurrent N CMD ARGS...")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("concurrent: bad count %q", args[0])
	}
	path := args[1]
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runEnv(ts, path, args[2:])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			ts.Fatalf("concurrent: copy %d: %v", i+1, err)
		}
	}
}

// cmdJobs checks the jobs of a `faas jobs -o json` file:
// `jobs FILE cold N` (N cold starts), `jobs FILE hosts N` (N distinct
// hosts), `jobs FILE sethost VAR` (VAR is the first job's host), `jobs
// FILE setid VAR` (its id).
func cmdJobs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jobs FILE cold|hosts|sethost ARG")
	}
	var jobs []struct {
		ID   string `json:"id"`
		Host string `json:"host"`
		Cold bool   `json:"cold"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &jobs); err != nil {
		ts.Fatalf("jobs: %s: %v", args[0], err)
	}
	cold, hosts := 0, map[string]int{}
	for _, j := range jobs {
		if j.Cold {
			cold++
		}
		hosts[j.Host]++
	}
	switch args[1] {
	case "setid":
		if len(jobs) == 0 {
			ts.Fatalf("jobs: no jobs in %s", args[0])
		}
		ts.Setenv(args[2], jobs[0].ID)
		return
	case "sethost":
		if len(jobs) == 0 {
			ts.Fatalf("jobs: no jobs in %s", args[0])
		}
		ts.Setenv(args[2], jobs[0].Host)
		return
	case "cold":
		if strconv.Itoa(cold) != args[2] {
			ts.Fatalf("jobs: %d cold starts, want %s (hosts %v)", cold, args[2], hosts)
		}
	case "hosts":
		if strconv.Itoa(len(hosts)) != args[2] {
			ts.Fatalf("jobs: %d hosts %v, want %s", len(hosts), hosts, args[2])
		}
	default:
		ts.Fatalf("jobs: unknown check %q", args[1])
	}
}

// cmdStamp remembers now under a name; `stamp NAME MAX` fails when more
// than MAX has passed since `stamp NAME`.
func cmdStamp(ts *testscript.TestScript, neg bool, args []string) {
	switch len(args) {
	case 1:
		ts.Setenv("STAMP_"+args[0], strconv.FormatInt(time.Now().UnixNano(), 10))
	case 2:
		ns, err := strconv.ParseInt(ts.Getenv("STAMP_"+args[0]), 10, 64)
		if err != nil {
			ts.Fatalf("stamp: no stamp %s", args[0])
		}
		max, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("stamp: bad duration %q", args[1])
		}
		if d := time.Since(time.Unix(0, ns)); d > max {
			ts.Fatalf("stamp: %s since %s, over %s", d.Round(time.Millisecond), args[0], max)
		} else {
			fmt.Fprintf(ts.Stdout(), "%s since %s\n", d.Round(time.Millisecond), args[0])
		}
	default:
		ts.Fatalf("usage: stamp NAME [MAX]")
	}
}

// cmdAgentsIn stops, when the script ends, the agents a worker with its
// own FAAS_HOME started: `agentsin DIR`.
func cmdAgentsIn(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: agentsin DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Defer(func() { StopAgents(dir) })
}

// runEnv runs a program of the script's PATH with the script's faas
// variables, its output discarded.
func runEnv(ts *testscript.TestScript, name string, args []string) error {
	path := name
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, name); fileExists(p) {
			path = p
			break
		}
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = os.Environ()
	for _, k := range []string{"PATH", "HOME", "FAAS_HOME", "FAAS_SERVER", "FAAS_TOKEN", "GORACE"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// cmdFreePort sets VAR to a loopback TCP port free now: `freeport VAR`.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("freeport: %v", err)
	}
	defer ln.Close()
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// cmdWaitPort waits (up to a minute) until something accepts connections
// on a loopback port: `waitport PORT`.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport PORT")
	}
	deadline := time.Now().Add(time.Minute)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitport: nothing listens on %s: %v", args[0], err)
		}
		time.Sleep(delay)
	}
}
