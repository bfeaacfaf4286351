package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
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

func (r *Runner) resolveLauncher(rt function.Runtime, path string) string {
	if v, ok := launchers.Load(path); ok {
		return v.(string)
	}
	resolved := r.resolveLauncherUncached(rt, path)
	launchers.Store(path, resolved)
	return resolved
}

func (r *Runner) resolveLauncherUncached(rt function.Runtime, path string) string {
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
	if b, err := json.Marshal(cache); err == nil {
		if err := os.MkdirAll(filepath.Dir(cachePath), 0o700); err == nil {
			tmp := cachePath + ".tmp" + time.Now().Format("150405.000000000")
			if os.WriteFile(tmp, b, 0o600) == nil {
				_ = os.Rename(tmp, cachePath)
			}
		}
	}
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
