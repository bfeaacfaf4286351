// Package build builds a function's dependencies, once per content, in a
// jail: requirements.txt with `pip install --target`, package.json and its
// lock with `npm ci --ignore-scripts --omit=dev`. An environment is keyed
// by the sha256 of what its result depends on (the runtime, the
// interpreter, the platform, the dependency files, local dependencies,
// and pip's or npm's own settings and configuration files) and shared,
// read-only, by every version with that key:
//
//	$FAAS_HOME/envs/<key>/
//	  .faas-env.json        what it is (Meta), written last
//	  requirements.txt      python: what it was built from
//	  python/               on sys.path
//	  package.json, package-lock.json, local dependencies
//	  node_modules/         NODE_PATH
//
// A build runs in a jail of its own (sandbox.Jail) as an unprivileged
// uid, with the interpreter, the environment being built (at JailDir,
// where a function's jail should mount it too), a sized /tmp, and the
// network through an egress proxy, or none when pip or npm is told to stay
// offline (PIP_NO_INDEX, npm_config_offline). It builds into a temporary
// directory renamed into place when complete, under a lock: a failed or
// interrupted build leaves nothing, a concurrent one waits and finds it
// built. The environment is then root's and read-only.
package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Where a runtime finds its packages in an environment.
const (
	// PythonDir goes on sys.path.
	PythonDir = "python"
	// NodeDir is NODE_PATH.
	NodeDir = "node_modules"
)

// JailDir is where an environment is in a jail: where it is built, and
// where a function's jail should mount it, so that any path a package
// records at install time holds when it runs (Lambda's layers are in /opt).
const JailDir = "/opt/env"

// jailHome is the build's HOME in its jail: its /tmp.
const jailHome = sandbox.JailTmp

// MetaFile is an environment's description, written last.
const MetaFile = ".faas-env.json"

// Defaults of a Builder's limits.
const (
	DefaultMemoryMB = 1024
	DefaultTmpMB    = 512
	DefaultTimeout  = 10 * time.Minute
)

// Spec is one function's dependencies.
type Spec struct {
	Runtime function.Runtime
	// Files are the dependency files of the function's tree, by name:
	// requirements.txt (and files it includes with -r or -c); or
	// package.json with package-lock.json (or npm-shrinkwrap.json).
	Files map[string][]byte
	// SourceDir is the function's directory on this host, where the local
	// dependencies package.json names (file:vendor/x.tgz) are.
	SourceDir string
	// Log hears pip's or npm's output as it is written.
	Log io.Writer
}

// Env is a built environment.
type Env struct {
	Key string
	// Dir is the environment on this host: $FAAS_HOME/envs/<key>.
	Dir string
	// Cached says it was there already, and nothing ran.
	Cached bool
	// Size is the bytes of its files.
	Size int64
}

// Meta is what MetaFile says of an environment.
type Meta struct {
	Key     string    `json:"key"`
	Runtime string    `json:"runtime"`
	Created time.Time `json:"created"`
	Size    int64     `json:"size"`
}

// Builder builds environments under Home. Its zero limits are the defaults.
type Builder struct {
	Home   string
	Runner *sandbox.Runner
	Interp *interp.Resolver
	// Environ is where pip's and npm's settings (PIP_*, npm_config_*) and
	// HOME (their configuration files) are read from; nil: this process's.
	Environ  []string
	MemoryMB int64
	TmpMB    int64
	CPUs     int
	Timeout  time.Duration
}

// New returns a builder for home with this host's sandbox.
func New(home string) (*Builder, error) {
	r, err := sandbox.New(home)
	if err != nil {
		return nil, err
	}
	return &Builder{Home: home, Runner: r, Interp: interp.New(home)}, nil
}

func (b *Builder) interp() *interp.Resolver {
	if b.Interp == nil {
		return interp.New(b.Home)
	}
	return b.Interp
}

func (b *Builder) environ() []string {
	if b.Environ == nil {
		return os.Environ()
	}
	return b.Environ
}

// uid is the host uid builds run as. It is one for all builds: they share
// npm's download cache, whose files must stay writable from one build to
// the next; builds still cannot reach each other (each has its own PID
// namespace, root and /tmp) nor any function (whose uids are others).
func (b *Builder) uid() int { return sandbox.UIDFor("build") }

// Needs says whether a function of runtime rt with these files has
// dependencies to build: a requirements.txt that names something, or a
// package.json with dependencies, which must then come with its lock.
func Needs(rt function.Runtime, files map[string][]byte) (bool, error) {
	switch rt {
	case function.Python:
		for _, line := range strings.Split(string(files["requirements.txt"]), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				return true, nil
			}
		}
	case function.Node:
		data, ok := files["package.json"]
		if !ok {
			return false, nil
		}
		var pkg packageJSON
		if err := json.Unmarshal(data, &pkg); err != nil {
			return false, fault.Usagef("package.json: %w", err)
		}
		if len(pkg.Dependencies)+len(pkg.OptionalDependencies)+len(pkg.PeerDependencies) == 0 {
			return false, nil // say, only "type": "module"
		}
		if lockName(files) == "" {
			return false, fault.WithHint(fault.Usagef("package.json has dependencies but no package-lock.json: faas installs exactly what a lock file says (npm ci)"),
				"make one with `npm install --package-lock-only` in the function's directory, and deploy it with package.json")
		}
		return true, nil
	}
	return false, nil
}

// Key is the key of s's environment, without building it.
func (b *Builder) Key(s Spec) (string, error) {
	p, err := b.plan(s)
	if err != nil {
		return "", err
	}
	return p.key, nil
}

// Build returns s's environment, building it unless it is there already.
func (b *Builder) Build(ctx context.Context, s Spec) (Env, error) {
	p, err := b.plan(s)
	if err != nil {
		return Env{}, err
	}
	env := Env{Key: p.key, Dir: faashome.Env(b.Home, p.key)}
	if m, err := ReadMeta(env.Dir); err == nil {
		env.Cached, env.Size = true, m.Size
		return env, nil
	}
	lock, err := faashome.LockWait(ctx, faashome.EnvLock(b.Home, p.key))
	if err != nil {
		if ctx.Err() != nil {
			return Env{}, fault.Platformf("build interrupted: %w", err)
		}
		return Env{}, fault.Platformf("lock the environment: %w", err)
	}
	defer lock.Close()
	// Built by another process while this one waited.
	if m, err := ReadMeta(env.Dir); err == nil {
		env.Cached, env.Size = true, m.Size
		return env, nil
	}
	b.removeStale(p.key)
	work, err := os.MkdirTemp(faashome.Envs(b.Home), ".tmp-"+p.key+"-")
	if err != nil {
		return Env{}, fault.Platformf("create the build directory: %w", err)
	}
	defer bundle.RemoveTree(work) //nolint:errcheck // all but the environment, renamed out of it when done
	out := filepath.Join(work, "env")
	if err := b.prepare(p, work, out); err != nil {
		return Env{}, err
	}
	if err := b.run(ctx, p, work, out); err != nil {
		return Env{}, err
	}
	if env.Size, err = seal(out, b.jailed()); err != nil {
		return Env{}, fault.Platformf("seal the environment: %w", err)
	}
	m := Meta{Key: p.key, Runtime: string(s.Runtime), Created: time.Now().UTC(), Size: env.Size}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(out, MetaFile), append(data, '\n'), 0o444); err != nil {
		return Env{}, fault.Platformf("describe the environment: %w", err)
	}
	if err := os.Rename(out, env.Dir); err != nil {
		// A prune removed the lock file this build held, and another
		// build of the key took a new one and finished first.
		if m, merr := ReadMeta(env.Dir); merr == nil {
			env.Cached, env.Size = true, m.Size
			return env, nil
		}
		return Env{}, fault.Platformf("install the environment: %w", err)
	}
	// Last, as a directory is moved only while it can be written to.
	if err := os.Chmod(env.Dir, 0o555); err != nil {
		return Env{}, fault.Platformf("seal the environment: %w", err)
	}
	return env, nil
}

// jailed says builds run in a jail here (as root, for an unprivileged
// uid); else they run as faas does, unconfined but for rlimits.
func (b *Builder) jailed() bool { return b.Runner.Sandbox.Jail }

// prepare lays out a build: the dependency files and local dependencies in
// the environment, the configuration files beside it, all the build
// uid's.
func (b *Builder) prepare(p *plan, work, out string) error {
	if err := os.Mkdir(out, 0o755); err != nil {
		return fault.Platformf("create the build directory: %w", err)
	}
	for name, data := range p.spec.Files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return fault.Platformf("write %s: %w", name, err)
		}
	}
	root, _ := filepath.EvalSymlinks(p.spec.SourceDir)
	for _, rel := range p.local {
		real, _ := filepath.EvalSymlinks(filepath.Join(root, rel))
		if err := copyLocal(real, filepath.Join(out, rel)); err != nil {
			return fault.Platformf("copy the local dependency %s: %w", rel, err)
		}
	}
	if !b.jailed() {
		return nil
	}
	for i, c := range p.configs {
		// Copies, readable by the build's uid whatever the host's modes;
		// outside the environment, which functions read.
		path := filepath.Join(work, "config", fmt.Sprint(i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fault.Platformf("copy %s: %w", c.host, err)
		}
		if err := os.WriteFile(path, c.data, 0o400); err != nil {
			return fault.Platformf("copy %s: %w", c.host, err)
		}
	}
	if err := chownTree(work, b.uid()); err != nil {
		return fault.Platformf("hand the build directory to the build: %w", err)
	}
	if p.spec.Runtime == function.Node {
		if err := b.npmCache(); err != nil {
			return fault.Platformf("npm's cache: %w", err)
		}
	}
	return nil
}

// npmCache makes npm's shared download cache the build uid's.
func (b *Builder) npmCache() error {
	dir := faashome.Cache(b.Home, "npm")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if owner(dir) == b.uid() {
		return nil
	}
	return chownTree(dir, b.uid()) // used unjailed before, or by another uid
}

// removeStale removes what builds of key that died left (the caller holds
// key's lock, so none of them runs).
func (b *Builder) removeStale(key string) {
	stale, _ := filepath.Glob(filepath.Join(faashome.Envs(b.Home), ".tmp-"+key+"-*"))
	for _, d := range stale {
		bundle.RemoveTree(d)
	}
}

// ReadMeta reads an environment's description; an error when it has none
// (it is not a finished environment).
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	data, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, err
	}
	if m.Key != filepath.Base(dir) {
		return m, errors.New("an environment that says it is another")
	}
	return m, nil
}

// cpus is how many CPUs a build may use.
func (b *Builder) cpus() int {
	if b.CPUs > 0 {
		return b.CPUs
	}
	return runtime.NumCPU()
}
