// Command jail measures what the jail costs an invocation, side by side in
// one run: the same faas binary, one FAAS_HOME whose functions run jailed
// and one with FAAS_SANDBOX=rlimit (no jail, no cgroups: the baseline), the
// runs of each measurement interleaved so that the machine's load falls on
// both alike.
//
//	warm: `faas invoke hello` as a whole CLI process against a warm instance
//	cold: deploy a new function, then its first `faas invoke` (a new agent,
//	      a new worker, and for the jail: its namespaces, root and uid)
//
// The limits: warm within 10 % of the baseline, cold within 30 ms.
// Run it from the repository root, as root on a host that can jail:
//
//	go run ./bench/jail [-n 30]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/scripttest"
)

func main() {
	n := flag.Int("n", 30, "runs per measurement and side (≥ 10)")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// side is one FAAS_HOME and the environment its commands run with.
type side struct {
	name string
	env  []string
	warm []time.Duration
	cold []time.Duration
}

func (s *side) faas(faas string, args ...string) (time.Duration, error) {
	cmd := exec.Command(faas, args...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t := time.Now()
	err := cmd.Run()
	d := time.Since(t)
	if err != nil {
		return d, fmt.Errorf("%s: faas %v: %v: %s", s.name, args, err, errb.String())
	}
	return d, nil
}

func run(n int) error {
	if n < 10 {
		return fmt.Errorf("-n must be at least 10")
	}
	dir, faas, err := benchutil.Setup("faas-bench-jail-", map[string]string{"hello.py": benchutil.Hello})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer scripttest.StopAgents(dir) // every home of this run is under dir
	code := filepath.Join(dir, "hello.py")
	jail := &side{name: "jail", env: benchutil.Env(filepath.Join(dir, "jail"), "FAAS_AGENT_IDLE=10m", "FAAS_SANDBOX=")}
	plain := &side{name: "rlimit", env: benchutil.Env(filepath.Join(dir, "rlimit"), "FAAS_AGENT_IDLE=10m", "FAAS_SANDBOX=rlimit")}
	sides := []*side{jail, plain}
	defer func() {
		for _, s := range sides {
			for i := 0; i <= n; i++ {
				_, _ = s.faas(faas, "rm", "cold"+strconv.Itoa(i))
			}
			_, _ = s.faas(faas, "rm", "hello")
		}
	}()
	for _, s := range sides {
		if _, err := s.faas(faas, "deploy", code, "--name", "hello"); err != nil {
			return err
		}
		if _, err := s.faas(faas, "invoke", "hello", "-d", `{"name":"warm-up"}`); err != nil {
			return err
		}
	}
	for i := range n {
		for _, s := range sides {
			d, err := s.faas(faas, "invoke", "hello", "-d", `{"name":"Ada"}`)
			if err != nil {
				return err
			}
			s.warm = append(s.warm, d)
			name := "cold" + strconv.Itoa(i)
			if _, err := s.faas(faas, "deploy", code, "--name", name); err != nil {
				return err
			}
			if d, err = s.faas(faas, "invoke", name, "-d", `{"name":"Ada"}`); err != nil {
				return err
			}
			s.cold = append(s.cold, d)
			if _, err := s.faas(faas, "rm", name); err != nil {
				return err
			}
		}
	}
	fmt.Printf("n=%d per side, interleaved; medians in ms\n", n)
	fmt.Printf("%-6s %10s %10s\n", "", "warm", "cold")
	for _, s := range sides {
		fmt.Printf("%-6s %10s %10s\n", s.name, benchutil.MS(benchutil.Median(s.warm)), benchutil.MS(benchutil.Median(s.cold)))
	}
	wr := float64(benchutil.Median(jail.warm)) / float64(benchutil.Median(plain.warm))
	cd := benchutil.Median(jail.cold) - benchutil.Median(plain.cold)
	fmt.Printf("warm: jail/rlimit = %.3f (limit 1.10: %s)\n", wr, benchutil.Verdict(wr <= 1.10))
	fmt.Printf("cold: jail - rlimit = %s ms (limit 30 ms: %s)\n", benchutil.MS(cd), benchutil.Verdict(cd <= 30*time.Millisecond))
	return nil
}
