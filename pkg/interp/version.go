package interp

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// versions caches what Version said, by path, size and modification time.
var versions sync.Map

// Version is the version a runtime's interpreter says it is ("3.11.7",
// "20.20.2", "5.2.15"), asked once per interpreter file and remembered in
// the home's run/interpreters.json: a deploy records it without paying for
// a process each time.
func (r *Resolver) Version(rt function.Runtime, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fault.Platformf("the %s interpreter %s: %v", rt, path, err)
	}
	key := path + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 10) + "\x00" + strconv.FormatInt(fi.Size(), 10)
	if v, ok := versions.Load(key); ok {
		return v.(string), nil
	}
	cachePath := faashome.Interpreters(r.Home)
	cache := map[string]launcherEntry{}
	if b, err := os.ReadFile(cachePath); err == nil {
		_ = json.Unmarshal(b, &cache)
	}
	if e, ok := cache["version:"+path]; ok && e.MTime == fi.ModTime().UnixNano() && e.Resolved != "" {
		versions.Store(key, e.Resolved)
		return e.Resolved, nil
	}
	var args []string
	switch rt {
	case function.Python:
		args = []string{"-c", "import platform; print(platform.python_version())"}
	case function.Node:
		args = []string{"--version"}
	case function.Bash:
		args = []string{"-c", "echo $BASH_VERSION"}
	default:
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		return "", fault.Platformf("the %s interpreter %s does not run: %v", rt, path, err)
	}
	v := strings.TrimPrefix(string(bytes.TrimSpace(out)), "v")
	versions.Store(key, v)
	cache["version:"+path] = launcherEntry{MTime: fi.ModTime().UnixNano(), Resolved: v}
	_ = faashome.WriteJSON(cachePath, cache) // a cache: best effort
	return v, nil
}

// Pinned is the interpreter a version was deployed with, when it is still
// there; else an error that says to deploy again.
func Pinned(rt function.Runtime, path string) (string, error) {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fault.WithHint(fault.Platformf("the %s interpreter this version was deployed with, %s, is gone", rt, path),
			"deploy the function again to use this host's interpreter")
	}
	return path, nil
}
