// Package interp finds the program that runs a runtime: python3, node or
// bash from PATH or FAAS_PYTHON, FAAS_NODE and FAAS_BASH, with launcher
// scripts (pyenv, asdf, nvm shims) resolved to the interpreter they start.
package interp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// A python3 or node found on PATH may be a launcher script (pyenv, asdf,
// nvm shims) that costs a hundred milliseconds or more before the real
// interpreter starts. It is resolved once to the interpreter it runs, and
// the answer cached in $FAAS_HOME/run/interpreters.json, keyed by the
// launcher's path and modification time.

type launcherEntry struct {
	MTime    int64  `json:"mtime"`
	Resolved string `json:"resolved"`
}

var launchers sync.Map // path → resolved, for this process

func (r *Resolver) resolveLauncher(rt function.Runtime, path string) string {
	if v, ok := launchers.Load(path); ok {
		return v.(string)
	}
	resolved := r.resolveLauncherUncached(rt, path)
	launchers.Store(path, resolved)
	return resolved
}

func (r *Resolver) resolveLauncherUncached(rt function.Runtime, path string) string {
	var probe []string
	switch rt {
	case function.Python:
		probe = []string{path, "-c", "import sys; print(sys.executable)"}
	case function.Node:
		probe = []string{path, "-e", "process.stdout.write(process.execPath)"}
	default:
		return path
	}
	fi, err := os.Stat(path)
	if err != nil || !isScript(path) {
		return path
	}
	cachePath := faashome.Interpreters(r.Home)
	cache := map[string]launcherEntry{}
	if b, err := os.ReadFile(cachePath); err == nil {
		_ = json.Unmarshal(b, &cache)
	}
	if e, ok := cache[path]; ok && e.MTime == fi.ModTime().UnixNano() && isExecutable(e.Resolved) {
		return e.Resolved
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, probe[0], probe[1:]...).Output()
	resolved := string(bytes.TrimSpace(out))
	if err != nil || !filepath.IsAbs(resolved) || !isExecutable(resolved) || isScript(resolved) {
		return path
	}
	cache[path] = launcherEntry{MTime: fi.ModTime().UnixNano(), Resolved: resolved}
	_ = faashome.WriteJSON(cachePath, cache) // a cache: best effort
	return resolved
}

// isScript reports whether a file starts with #!.
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	n, _ := f.Read(b[:])
	return n == 2 && string(b[:]) == "#!"
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Resolver finds interpreters for one FAAS_HOME, whose run/ caches what
// launcher scripts resolve to.
type Resolver struct {
	Home string
	// LookPath finds programs; exec.LookPath outside tests.
	LookPath func(string) (string, error)
}

// Program is the program that runs rt, as FAAS_PYTHON, FAAS_NODE or
// FAAS_BASH (env) names it, else as found on PATH; "" for executables.
func Program(rt function.Runtime) (env, prog string) {
	switch rt {
	case function.Python:
		env, prog = "FAAS_PYTHON", "python3"
	case function.Node:
		env, prog = "FAAS_NODE", "node"
	case function.Bash:
		env, prog = "FAAS_BASH", "bash"
	default:
		return "", ""
	}
	if p := os.Getenv(env); p != "" {
		prog = p
	}
	return env, prog
}

// New returns the resolver of home.
func New(home string) *Resolver { return &Resolver{Home: home, LookPath: exec.LookPath} }

// Find returns the program that runs rt ("" for executables),
// honouring FAAS_PYTHON, FAAS_NODE and FAAS_BASH.
func (r *Resolver) Find(rt function.Runtime) (string, error) {
	env, prog := Program(rt)
	if prog == "" {
		return "", nil
	}
	path, err := r.LookPath(prog)
	if err != nil {
		return "", fault.WithHint(fault.Platformf("the %s runtime needs %s, which was not found", rt, prog),
			fmt.Sprintf("install %s or point %s at it", prog, env))
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return r.resolveLauncher(rt, path), nil
}
