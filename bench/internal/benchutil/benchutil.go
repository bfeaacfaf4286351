// Package benchutil is what the benchmark programs under bench/ share.
package benchutil

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BuildFaas builds faas as a release is built (-ldflags "-s -w") into a new
// temporary directory named after prefix, run from the repository root. It
// returns the directory (remove it when done) and the binary.
func BuildFaas(prefix string) (dir, faas string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	faas = filepath.Join(dir, "faas")
	build := exec.Command("go", "build", "-ldflags", "-s -w", "-o", faas, "./cmd/faas")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("build faas (run from the repository root): %w", err)
	}
	return dir, faas, nil
}

// Setup builds faas (BuildFaas) and writes files into its directory.
func Setup(prefix string, files map[string]string) (dir, faas string, err error) {
	dir, faas, err = BuildFaas(prefix)
	if err != nil {
		return "", "", err
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", "", err
		}
	}
	return dir, faas, nil
}

// Original is the original design's model of an invocation: a fresh python3
// per request that loads the handler file (argv[1]) and feeds it the
// payload from stdin.
const Original = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fn", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
print(json.dumps(mod.handler(json.loads(sys.stdin.read() or "{}"), None)))
`

// Quantile estimates a quantile from a histogram's cumulative buckets, by
// linear interpolation inside the bucket, as Prometheus'
// histogram_quantile does: bounds are the buckets' upper bounds, cum their
// cumulative counts.
func Quantile(q float64, bounds []float64, cum []uint64) float64 {
	if len(cum) == 0 || cum[len(cum)-1] == 0 {
		return math.NaN()
	}
	rank := q * float64(cum[len(cum)-1])
	for i, c := range cum {
		if float64(c) >= rank {
			lo, prev := 0.0, uint64(0)
			if i > 0 {
				lo, prev = bounds[i-1], cum[i-1]
			}
			if math.IsInf(bounds[i], 1) {
				return lo
			}
			if c == prev {
				return bounds[i]
			}
			return lo + (bounds[i]-lo)*(rank-float64(prev))/float64(c-prev)
		}
	}
	return bounds[len(bounds)-1]
}

// Hello is the benchmarks' handler: a greeting, as examples/hello.py.
const Hello = `def handler(event, context):
    return {"message": "Hello, %s!" % event.get("name", "world")}
`

// MS formats a duration as milliseconds with two decimals.
func MS(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}

// Median is the median of d (d is left as it is).
func Median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// Ratio is the ratio of a's median to b's.
func Ratio(a, b []time.Duration) float64 { return float64(Median(a)) / float64(Median(b)) }

// Verdict words a comparison with a limit.
func Verdict(ok bool) string {
	if ok {
		return "within"
	}
	return "OVER"
}

// Env is this process's environment for faas commands that must keep all
// their state in home: FAAS_HOME is home, and nothing sends the commands
// elsewhere (FAAS_SERVER, FAAS_TOKEN, FAAS_DATABASE_URL are dropped), so
// a bench never touches its caller's functions, jobs or database. extra
// are added as they are.
func Env(home string, extra ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "FAAS_HOME", "FAAS_SERVER", "FAAS_TOKEN", "FAAS_DATABASE_URL":
			continue
		}
		out = append(out, e)
	}
	return append(append(out, "FAAS_HOME="+home), extra...)
}

// Times words the ratio a/b ("2.35×"), or says it was not measured when
// either side is not a positive, finite number (a baseline that got no
// answer): a bench never prints a ratio it could not measure.
func Times(a, b float64) string {
	if r, ok := Div(a, b); ok {
		return strconv.FormatFloat(r, 'f', 2, 64) + "×"
	}
	return "not measured"
}

// Div is a/b, and whether both were measured: positive and finite.
func Div(a, b float64) (float64, bool) {
	ok := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) }
	if !ok(a) || !ok(b) {
		return 0, false
	}
	return a / b, true
}

// Time runs argv with env, its output discarded, and returns how long it
// took from start to exit; an error says what it printed on stderr.
func Time(env []string, argv ...string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	t := time.Now()
	err := cmd.Run()
	d := time.Since(t)
	if err != nil {
		return d, fmt.Errorf("%v: %v: %s", argv, err, errb.String())
	}
	return d, nil
}
