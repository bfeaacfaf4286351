package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
)

// scaling is one way to deploy the function: the default (no flags), or
// pinned to instances × slots.
type scaling struct {
	name             string
	instances, slots int
}

// pinned are the settings the default is held against.
var pinned = []scaling{{"1×1", 1, 1}, {"1×2", 1, 2}, {"1×4", 1, 4}, {"2×1", 2, 1}, {"2×2", 2, 2}, {"4×1", 4, 1}, {"10×1", 10, 1}}

// scalingPart is (s): the default scaling against every pinned setting
// at 16 and 64 in flight, in interleaved rounds (goal 5 of the
// performance issue: the default never more than 5 % behind the best).
func scalingPart(dir, faas, fn string, body []byte, o opts) error {
	s, err := startServe(dir, faas, "home-s", "FAAS_AGENT_IDLE=10m")
	if err != nil {
		return err
	}
	defer s.stop()
	all := append([]scaling{{name: "default"}}, pinned...)
	for i, sc := range all {
		args := []string{"deploy", fn, "--name", fnName(i)}
		if sc.instances > 0 {
			args = append(args, "--max-instances", strconv.Itoa(sc.instances), "--concurrency", strconv.Itoa(sc.slots))
		}
		if _, err := s.run(faas, true, args...); err != nil {
			return err
		}
	}
	desc, _ := s.run(faas, false, "describe", fnName(0), "-o", "json")
	rounds := 4
	each := o.scaleDur / time.Duration(rounds)
	results := map[int][][]result{} // concurrency → setting → runs
	concs := []int{16, 64}
	for _, c := range concs {
		for i := range all {
			// Warm every instance the setting may start.
			if w := load(s.invokeURL(fnName(i)), s.token, c, time.Second, body); w.n == 0 {
				return fmt.Errorf("warm-up of %s: no invocation succeeded: %s", all[i].name, w.firstErr)
			}
		}
		results[c] = make([][]result, len(all))
		for r := range rounds {
			for i, sc := range all {
				fmt.Fprintf(os.Stderr, "(s) %s, %d in flight for %s (round %d of %d)…\n", sc.name, c, each, r+1, rounds)
				results[c][i] = append(results[c][i], measure(s.invokeURL(fnName(i)), s.token, c, each, body))
			}
		}
	}
	fmt.Printf("\n(s) the default scaling against pinned instances × slots, %d interleaved rounds of %s each\n", rounds, each)
	fmt.Printf("default: %s\n\n", scalingOf(desc))
	fmt.Println("| setting | 16 in flight, calls/s | p99 ms | 64 in flight, calls/s | p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, sc := range all {
		fmt.Printf("| %s |", sc.name)
		for _, c := range concs {
			m := merge(results[c][i])
			fmt.Printf(" %.0f | %.2f |", m.rps(), ms(m.q(0.99)))
		}
		fmt.Println()
	}
	fmt.Println()
	for _, c := range concs {
		best, bestName := 0.0, ""
		for i := 1; i < len(all); i++ {
			if r := merge(results[c][i]).rps(); r > best {
				best, bestName = r, all[i].name
			}
		}
		def := merge(results[c][0]).rps()
		ratio, ok := benchutil.Div(def, best)
		fmt.Printf("- %d in flight: the default / the best pinned (%s) = %s (at least 0.95): %s\n", c, bestName,
			benchutil.Times(def, best), verdict(ok, ratio >= 0.95))
	}
	return nil
}

func fnName(i int) string { return "scale" + strconv.Itoa(i) }

// scalingOf picks max_instances and concurrency out of describe's JSON.
func scalingOf(desc string) string {
	var parts []string
	for _, k := range []string{`"max_instances":`, `"concurrency":`} {
		if i := strings.Index(desc, k); i >= 0 {
			v := strings.TrimSpace(desc[i+len(k):])
			if j := strings.IndexAny(v, ",}\n"); j >= 0 {
				v = v[:j]
			}
			parts = append(parts, strings.Trim(k, `":`)+" "+strings.TrimSpace(v))
		}
	}
	return strings.Join(parts, ", ")
}
