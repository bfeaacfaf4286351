package build

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
)

// npm runs the host's npm in dir, for what a developer does before a
// deploy (npm pack, npm install --package-lock-only).
func npm(t testing.TB, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("no npm here")
	}
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nodeSpec is the dependency files of the function in src.
func nodeSpec(t testing.TB, src string) Spec {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	return Spec{Runtime: function.Node, Files: files, SourceDir: src}
}

// TestNodeOffline builds a package whose dependencies are local: an `npm
// pack` tarball (file:vendor/tiny-1.0.0.tgz) and a directory
// (file:packages/lib), with npm told to stay offline.
func TestNodeOffline(t *testing.T) {
	b := jailedBuilder(t)
	node := program(t, function.Node)
	tiny := t.TempDir()
	write(t, filepath.Join(tiny, "package.json"), `{"name": "tiny", "version": "1.0.0", "main": "index.js"}`)
	write(t, filepath.Join(tiny, "index.js"), "module.exports = {x: 42};\n")
	src := readable(t, t.TempDir())
	write(t, filepath.Join(src, "vendor", ".keep"), "")
	npm(t, tiny, "pack", "--pack-destination", filepath.Join(src, "vendor"))
	write(t, filepath.Join(src, "packages", "lib", "package.json"), `{"name": "lib", "version": "2.0.0"}`)
	write(t, filepath.Join(src, "packages", "lib", "index.js"), "module.exports = 'lib';\n")
	write(t, filepath.Join(src, "package.json"), `{"name": "fn", "version": "1.0.0", "dependencies": {"tiny": "file:vendor/tiny-1.0.0.tgz", "lib": "file:packages/lib"}}`)
	npm(t, src, "install", "--package-lock-only", "--offline")
	t.Setenv("npm_config_offline", "true")
	var log bytes.Buffer
	spec := nodeSpec(t, src)
	spec.Log = &log
	env, err := b.Build(context.Background(), spec)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	got := run(t, node, "-e", "const d = process.argv[1]; console.log(require(d + '/tiny').x, require(d + '/lib'))", filepath.Join(env.Dir, NodeDir))
	if got != "42 lib" {
		t.Fatalf("require: %q\n%s", got, log.String())
	}
	checkSealed(t, env.Dir, true)
	// The tarball's content is in the key, not only its name.
	write(t, filepath.Join(src, "packages", "lib", "index.js"), "module.exports = 'changed';\n")
	if k, err := b.Key(nodeSpec(t, src)); err != nil || k == env.Key {
		t.Fatalf("a changed local dependency, the same key: %v", err)
	}
}

// TestNodeOnline builds a real package from the npm registry, through the
// build's egress proxy.
func TestNodeOnline(t *testing.T) {
	b := jailedBuilder(t)
	node := program(t, function.Node)
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("no npm here")
	}
	view := exec.Command("npm", "view", "is-number@7.0.0", "version")
	if out, err := view.Output(); err != nil || strings.TrimSpace(string(out)) != "7.0.0" {
		t.Skipf("the npm registry is not reachable from here (npm view is-number@7.0.0: %v): the online build is not tested", err)
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "package.json"), `{"name": "fn", "version": "1.0.0", "dependencies": {"is-number": "7.0.0"}}`)
	npm(t, src, "install", "--package-lock-only")
	var log bytes.Buffer
	spec := nodeSpec(t, src)
	spec.Log = &log
	start := time.Now()
	env, err := b.Build(context.Background(), spec)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	t.Logf("npm ci of is-number@7.0.0 in %v", time.Since(start).Round(time.Millisecond))
	got := run(t, node, "-e", "console.log(require(process.argv[1] + '/is-number')(5))", filepath.Join(env.Dir, NodeDir))
	if got != "true" {
		t.Fatalf("require is-number: %q\n%s", got, log.String())
	}
	checkSealed(t, env.Dir, true)
	// npm's cache is kept for the next build (of another key).
	if entries, err := os.ReadDir(filepath.Join(b.Home, "cache", "npm")); err != nil || len(entries) == 0 {
		t.Fatalf("npm's cache: %v, %v", entries, err)
	}
}

// TestMissingTools: no node, or a node without npm, is the platform's
// fault (exit 3), with what to install.
func TestMissingTools(t *testing.T) {
	dir := t.TempDir()
	node := filepath.Join(dir, "bin", "node")
	write(t, node, "")
	if err := os.Chmod(node, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Runtime: function.Node, Files: map[string][]byte{
		"package.json": []byte(`{"dependencies": {"x": "1"}}`), "package-lock.json": []byte(`{}`)}}
	for what, c := range map[string]struct {
		lookPath func(string) (string, error)
		hint     string
	}{
		"no node": {func(string) (string, error) { return "", exec.ErrNotFound }, "install node"},
		"no npm": {func(p string) (string, error) {
			if p == "node" {
				return node, nil
			}
			return "", exec.ErrNotFound
		}, "install npm"},
	} {
		b := &Builder{Home: dir, Interp: &interp.Resolver{Home: dir, LookPath: c.lookPath}}
		_, err := b.Build(context.Background(), spec)
		if err == nil || fault.KindOf(err) != fault.Platform || !strings.Contains(fault.HintOf(err), c.hint) {
			t.Errorf("%s: %v (hint %q)", what, err, fault.HintOf(err))
		}
	}
}
