package build

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

// fakeEnv makes a finished, sealed environment of size bytes under home.
func fakeEnv(t *testing.T, home, key string, size int) {
	t.Helper()
	dir := faashome.Env(home, key)
	write(t, filepath.Join(dir, PythonDir, "m.py"), strings.Repeat("x", size))
	if _, err := seal(dir, false); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(Meta{Key: key, Runtime: "python", Size: int64(size)})
	if err := os.WriteFile(filepath.Join(dir, MetaFile), data, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
}

func key(c byte) string { return strings.Repeat(string(c), 64) }

// TestPrune: environments not kept go, with what dead builds and prunes
// left; kept ones stay, and so does one being built.
func TestPrune(t *testing.T) {
	home := t.TempDir()
	b := &Builder{Home: home}
	if n, size, err := b.Usage(); n != 0 || size != 0 || err != nil {
		t.Fatalf("Usage of no environments: %d, %d, %v", n, size, err)
	}
	fakeEnv(t, home, key('a'), 100)
	fakeEnv(t, home, key('b'), 200)
	fakeEnv(t, home, key('c'), 400)
	fakeEnv(t, home, key('d'), 800)
	write(t, filepath.Join(home, "envs", ".tmp-"+key('e')+"-123", "env", "x"), "12345")  // a build that died
	write(t, filepath.Join(home, "envs", ".tmp-"+key('f')+"-456", "env", "x"), "123456") // a build that runs
	write(t, filepath.Join(home, "envs", ".trash-"+key('g'), "x"), "1234567")            // a prune that died
	write(t, faashome.EnvLock(home, key('9')), "")                                       // a lock of nothing
	if n, size, err := b.Usage(); n != 4 || size != 1500 || err != nil {
		t.Fatalf("Usage: %d, %d, %v", n, size, err)
	}
	building, err := faashome.Lock(faashome.EnvLock(home, key('f')))
	if err != nil {
		t.Fatal(err)
	}
	defer building.Close()
	waiting, err := faashome.Lock(faashome.EnvLock(home, key('d'))) // a build found it, and waits
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	removed, freed, err := b.Prune(map[string]bool{key('a'): true})
	if err != nil || removed != 2 || freed != 200+400+5+7 {
		t.Fatalf("Prune: removed %d, freed %d, %v", removed, freed, err)
	}
	entries, _ := os.ReadDir(filepath.Join(home, "envs"))
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	sort.Strings(left)
	want := []string{".tmp-" + key('f') + "-456", key('a'), key('d'), key('d') + ".lock", key('f') + ".lock"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Fatalf("left after Prune:\n%v\nwant\n%v", left, want)
	}
	if n, size, _ := b.Usage(); n != 2 || size != 900 {
		t.Fatalf("Usage after Prune: %d, %d", n, size)
	}
}

// TestUnjailed: where the host cannot jail, a build runs as faas does,
// and its environment is still read-only.
func TestUnjailed(t *testing.T) {
	python := program(t, function.Python)
	home := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b := &Builder{Home: home, Runner: &sandbox.Runner{Home: home, Self: self, Sandbox: sandbox.Sandbox{Kind: sandbox.KindRlimit}}}
	offlineWheelhouse(t)
	env, err := b.Build(context.Background(), requirements("tinypkg==1.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import tinypkg; print(tinypkg.X)", filepath.Join(env.Dir, PythonDir))
	if got != "42" {
		t.Fatalf("import tinypkg: %q", got)
	}
	checkSealed(t, env.Dir, false)
	if removed, _, err := b.Prune(nil); removed != 1 || err != nil {
		t.Fatalf("Prune: %d, %v", removed, err)
	}
	if l := leftovers(t, b); len(l) != 0 {
		t.Fatalf("left after Prune: %v", l)
	}
}
