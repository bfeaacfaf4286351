// Command packages measures what a function of several files with
// dependencies costs against a one-file function, side by side in one run
// on one FAAS_HOME, the runs of each measurement interleaved:
//
//	deploy: `faas deploy` of an unchanged 60-file tree whose requirements.txt
//	        environment is built already, against an unchanged one file
//	warm:   `faas invoke` of that tree (its packages mounted from the
//	        environment), against the one file, both warm
//
// The limits: the tree's deploy at most 1.5× the file's; the warm
// invoke as fast (within 10 %). The dependency is a wheel this program
// makes, installed offline (PIP_NO_INDEX, PIP_FIND_LINKS). Run it from the
// repository root, as root on a host that can jail:
//
//	go run ./bench/packages [-n 30]
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

const app = `import tinypkg
from lib import m0

def handler(event, context):
    return {"message": "Hello, " + event.get("name", "world"), "v": tinypkg.VERSION, "m": m0.X}
`

func run(n int) error {
	if n < 10 {
		return fmt.Errorf("-n must be at least 10")
	}
	dir, faas, err := benchutil.Setup("faas-bench-packages-", map[string]string{"hello.py": benchutil.Hello})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer scripttest.StopAgents(dir)             // every home of this run is under dir
	if err := os.Chmod(dir, 0o755); err != nil { // the build's uid reads the wheelhouse
		return err
	}
	wheels := filepath.Join(dir, "wheels")
	if err := writeWheel(wheels, "tinypkg", "1.0"); err != nil {
		return err
	}
	tree := filepath.Join(dir, "app")
	files := map[string]string{"main.py": app, "requirements.txt": "tinypkg==1.0\n", "lib/__init__.py": ""}
	for i := range 57 {
		files[fmt.Sprintf("lib/m%d.py", i)] = fmt.Sprintf("X = %d\n", i)
	}
	for name, body := range files {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	env := benchutil.Env(filepath.Join(dir, "home"), "FAAS_AGENT_IDLE=10m", "PIP_NO_INDEX=1", "PIP_FIND_LINKS="+wheels)
	sh := func(args ...string) (time.Duration, error) {
		cmd := exec.Command(faas, args...)
		cmd.Env = env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		t := time.Now()
		err := cmd.Run()
		d := time.Since(t)
		if err != nil {
			return d, fmt.Errorf("faas %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return d, nil
	}
	defer func() {
		_, _ = sh("rm", "hello")
		_, _ = sh("rm", "app")
	}()
	file := []string{"deploy", filepath.Join(dir, "hello.py"), "--name", "hello"}
	treeDeploy := []string{"deploy", tree, "--name", "app"}
	first, err := sh(treeDeploy...)
	if err != nil {
		return err
	}
	for _, args := range [][]string{file, {"invoke", "hello"}, {"invoke", "app"}} {
		if _, err := sh(args...); err != nil {
			return err
		}
	}
	var dFile, dTree, wFile, wTree []time.Duration
	for range n {
		for _, m := range []struct {
			args []string
			into *[]time.Duration
		}{{file, &dFile}, {treeDeploy, &dTree}, {[]string{"invoke", "hello", "-d", `{"name":"Ada"}`}, &wFile}, {[]string{"invoke", "app", "-d", `{"name":"Ada"}`}, &wTree}} {
			d, err := sh(m.args...)
			if err != nil {
				return err
			}
			*m.into = append(*m.into, d)
		}
	}
	fmt.Printf("n=%d per side, interleaved; medians in ms (the tree's first deploy, with its build: %s ms)\n", n, benchutil.MS(first))
	fmt.Printf("%-28s %10s %10s %8s\n", "", "one file", "tree+deps", "ratio")
	dr := benchutil.Ratio(dTree, dFile)
	wr := benchutil.Ratio(wTree, wFile)
	fmt.Printf("%-28s %10s %10s %8.3f (limit 1.50: %s)\n", "deploy, unchanged", benchutil.MS(benchutil.Median(dFile)), benchutil.MS(benchutil.Median(dTree)), dr, benchutil.Verdict(dr <= 1.5))
	fmt.Printf("%-28s %10s %10s %8.3f (limit 1.10: %s)\n", "invoke, warm", benchutil.MS(benchutil.Median(wFile)), benchutil.MS(benchutil.Median(wTree)), wr, benchutil.Verdict(wr <= 1.1))
	return nil
}

// writeWheel writes a pure-Python wheel of one module: a zip with the
// package and its dist-info (METADATA, WHEEL, RECORD).
func writeWheel(dir, name, version string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info := name + "-" + version + ".dist-info/"
	files := [][2]string{
		{name + "/__init__.py", fmt.Sprintf("VERSION = %q\n", version)},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: faas-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	record.WriteString(info + "RECORD,,\n")
	files = append(files, [2]string{info + "RECORD", record.String()})
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := z.Create(f[0])
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+"-"+version+"-py3-none-any.whl"), buf.Bytes(), 0o644)
}
