package engine

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/provider"
)

// Builder builds a version's dependencies into a shared environment, once
// per lock content: the seam between the engine and pkg/build (which
// jails the build), set by whoever opens the engine.
type Builder interface {
	// Needs says whether a tree's files have dependencies to build for rt;
	// an error is bad input (a package.json without its lock).
	Needs(rt function.Runtime, files map[string][]byte) (bool, error)
	// Build returns the key of the environment, building it unless it is
	// there already (cached); its output streams to log.
	Build(ctx context.Context, rt function.Runtime, files map[string][]byte, sourceDir string, log io.Writer) (key string, cached bool, err error)
	// Prune removes the environments not in keep.
	Prune(keep map[string]bool) (removed int, freed int64, err error)
	// Usage is how many environments there are and their bytes.
	Usage() (count int, bytes int64, err error)
}

// SetBuilder lets the engine build dependencies; without one, a function
// with dependencies cannot be deployed.
func (e *Engine) SetBuilder(b Builder) { e.builder = b }

// BuildLogLimit bounds the build log a version keeps: its last bytes.
const BuildLogLimit = 64 << 10

// buildDeps builds what a tree version depends on, streaming the build's
// output to progress and keeping its tail as the version's build log.
// A one-file version has none.
func (e *Engine) buildDeps(ctx context.Context, b *bundle.Bundle, rt function.Runtime, prov string, progress io.Writer) (key string, built bool, log []byte, err error) {
	if b == nil {
		return "", false, nil, nil
	}
	files := b.Dependencies()
	if len(files) == 0 {
		return "", false, nil, nil
	}
	if e.builder == nil {
		return "", false, nil, fault.Platformf("this faas cannot build dependencies here")
	}
	needs, err := e.builder.Needs(rt, files)
	if err != nil || !needs {
		return "", false, nil, err
	}
	if prov != provider.Default {
		return "", false, nil, fault.WithHint(fault.Usagef("dependencies (%s) are built for the %s provider only", filepath.Base(depName(files)), provider.Default),
			"deploy with --provider "+provider.Default+", or ship them inside the function's files")
	}
	// The tree on disk, for the local packages a package.json names
	// (file:vendor/x.tgz), which are part of the environment's key; no
	// other build reads it, so no other deploy pays for unpacking it.
	dir := ""
	if bytes.Contains(files["package.json"], []byte(`"file:`)) {
		src, err := os.MkdirTemp(e.Home, ".deploy-")
		if err != nil {
			return "", false, nil, fault.Platformf("unpack the function's files: %w", err)
		}
		defer bundle.RemoveTree(src) //nolint:errcheck // a temporary copy
		dir = filepath.Join(src, "src")
		if err := bundle.Unpack(b.Tar(), dir); err != nil {
			return "", false, nil, fault.Platformf("unpack the function's files: %w", err)
		}
	}
	tail := &tailBuffer{max: BuildLogLimit}
	w := io.Writer(tail)
	if progress != nil {
		w = io.MultiWriter(tail, progress)
	}
	key, cached, err := e.builder.Build(ctx, rt, files, dir, w)
	if err != nil {
		return "", false, nil, err
	}
	return key, !cached, tail.Bytes(), nil
}

func depName(files map[string][]byte) string {
	if _, ok := files["requirements.txt"]; ok {
		return "requirements.txt"
	}
	return "package.json"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

// Bytes is what was kept.
func (t *tailBuffer) Bytes() []byte { return bytes.Clone(t.buf.Bytes()) }

// PruneEnvs removes the dependency environments no version uses.
func (e *Engine) PruneEnvs(ctx context.Context) (removed int, freed int64, err error) {
	if e.builder == nil {
		return 0, 0, nil
	}
	keys, err := e.store.DepsKeys(ctx)
	if err != nil {
		return 0, 0, err
	}
	keep := map[string]bool{}
	for _, k := range keys {
		keep[k] = true
	}
	return e.builder.Prune(keep)
}

// EnvUsage is how many dependency environments there are and their bytes.
func (e *Engine) EnvUsage() (count int, bytes int64, err error) {
	if e.builder == nil {
		return 0, 0, nil
	}
	return e.builder.Usage()
}

// pinInterpreter resolves the interpreter a local version runs on, once,
// at its deploy: its path and version ("" where there is none to find; the
// instance will say so).
func (e *Engine) pinInterpreter(rt function.Runtime) (path, version string) {
	r := interp.New(e.Home)
	path, err := r.Find(rt)
	if err != nil || path == "" {
		return "", ""
	}
	version, err = r.Version(rt, path)
	if err != nil {
		return "", ""
	}
	return path, version
}
