package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/faasdev/faas/bench/internal/benchutil"
)

// helloGo is the baseline of the start-up cases: the smallest Go program
// that prints a line.
const helloGo = `package main

import "fmt"

func main() { fmt.Println("Hello, world!") }
`

// buildHello builds helloGo in dir as faas is built (-ldflags "-s -w") and
// returns the binary.
func buildHello(dir string) (string, error) {
	src := filepath.Join(dir, "hellogo")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	for name, body := range map[string]string{"main.go": helloGo, "go.mod": "module hellogo\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "hello-go")
	build := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the hello-world Go program: %v: %s", err, out)
	}
	return bin, nil
}

// startCase is one start-up case: its command line and environment, and what
// its output must contain.
type startCase struct {
	name string
	env  []string
	argv []string
	want string
	wall series
	cpu  series
}

func (p *startCase) once() error {
	wall, cpu, err := timeProc("", p.env, p.want, p.argv...)
	if err != nil {
		return err
	}
	p.wall.d = append(p.wall.d, wall)
	p.cpu.d = append(p.cpu.d, cpu)
	return nil
}

// startup times whole processes against a hello-world Go program built in
// the same run, the cases in turn (h v c c' h v c c' …) so that drift on a
// shared machine falls on all of them: faas version, a warm faas invoke
// (handed to the warm agent: pkg/fastinvoke) and the same with
// FAAS_FAST_INVOKE=0 (the full path: the whole Go start-up, SQLite, the
// engine). It needs hello deployed and warm in env's FAAS_HOME.
func startup(n int, dir, faas string, env []string, payload string) error {
	hello, err := buildHello(dir)
	if err != nil {
		return err
	}
	cases := []*startCase{
		{name: "(h) hello-world Go program (baseline)", env: env, argv: []string{hello}, want: "Hello"},
		{name: "(v) faas version", env: env, argv: []string{faas, "version"}, want: "faas"},
		{name: "(c) faas invoke hello, warm (fast path)", env: env, argv: []string{faas, "invoke", "hello", "-d", payload}, want: "Hello"},
		{name: "(c'') the same, FAAS_FAST_INVOKE=0 (full path)", env: append(env[:len(env):len(env)], "FAAS_FAST_INVOKE=0"),
			argv: []string{faas, "invoke", "hello", "-d", payload}, want: "Hello"},
	}
	for i := -2; i < n; i++ { // two rounds of warm-up
		for _, p := range cases {
			if err := p.once(); err != nil {
				return err
			}
			if i < 0 {
				p.wall.d, p.cpu.d = nil, nil
			}
		}
	}
	h := cases[0]
	fmt.Printf("\nstart-up: %d rounds, the cases in turn; wall is start to exit, cpu the process' user + system time\n\n", n)
	fmt.Println("| case | wall p50 ms | wall p90 ms | cpu p50 ms | wall p50 / (h) | cpu p50 / (h) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, p := range cases {
		fmt.Printf("| %s | %s | %s | %s | %.2f | %.2f |\n", p.name, benchutil.MS(p.wall.q(0.5)), benchutil.MS(p.wall.q(0.9)),
			benchutil.MS(p.cpu.q(0.5)), ratio(p.wall, h.wall), ratio(p.cpu, h.cpu))
	}
	fmt.Println()
	c, full, v := cases[2], cases[3], cases[1]
	fmt.Printf("- (c) warm faas invoke ≤ 2 × (h), wall p50: %.2f×: %s\n", ratio(c.wall, h.wall), met(ratio(c.wall, h.wall) <= 2))
	fmt.Printf("- (c'') the full path against (h), wall p50: %.2f× (%.2f× (c))\n", ratio(full.wall, h.wall), ratio(full.wall, c.wall))
	fmt.Printf("- (v) faas version against (h), wall p50: %.2f×\n", ratio(v.wall, h.wall))
	return nil
}

func ratio(a, b series) float64 { return float64(a.q(0.5)) / float64(b.q(0.5)) }

func met(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}
