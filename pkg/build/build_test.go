package build

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/interp"
	"github.com/faasdev/faas/pkg/sandbox"
)

// The test binary doubles as the sandbox shim, as the faas binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.SandboxArg {
		os.Exit(sandbox.SandboxMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// jailedBuilder is a builder on a fresh home whose builds run jailed; the
// test is skipped where this host cannot jail.
func jailedBuilder(t testing.TB) *Builder {
	t.Helper()
	if sb := sandbox.DetectSandbox(); !sb.Jail {
		t.Skipf("builds run jailed, and this host cannot jail: %s", sb.JailWhy)
	}
	home := t.TempDir()
	b, err := New(home)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// program finds a runtime's interpreter, or skips the test.
func program(t testing.TB, rt function.Runtime) string {
	t.Helper()
	p, err := interp.New(t.TempDir()).Find(rt)
	if err != nil {
		t.Skipf("no %s here: %v", rt, err)
	}
	return p
}

// readable makes a test's directory readable by a build's uid, as a
// wheelhouse or a function's directory is (t.TempDir makes them 0700).
func readable(t testing.TB, dir string) string {
	t.Helper()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wheel writes a pure-Python wheel of one module by hand (a wheel is a
// zip with NAME-VERSION.dist-info/{METADATA,WHEEL,RECORD}).
func wheel(t testing.TB, dir, name, version, module string) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	info := name + "-" + version + ".dist-info/"
	for path, content := range map[string]string{
		name + "/__init__.py": module,
		info + "METADATA":     "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n",
		info + "WHEEL":        "Wheel-Version: 1.0\nGenerator: faas-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		info + "RECORD":       "",
	} {
		w, err := z.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-"+version+"-py3-none-any.whl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// offlineWheelhouse is a wheelhouse with tinypkg 1.0 (X = 42), and pip
// told to use only it.
func offlineWheelhouse(t testing.TB) string {
	t.Helper()
	dir := readable(t, t.TempDir())
	wheel(t, dir, "tinypkg", "1.0", "X = 42\n")
	t.Setenv("PIP_NO_INDEX", "1")
	t.Setenv("PIP_FIND_LINKS", dir)
	return dir
}

func requirements(s string) Spec {
	return Spec{Runtime: function.Python, Files: map[string][]byte{"requirements.txt": []byte(s)}}
}

// run runs a program on the host and returns its trimmed output.
func run(t testing.TB, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// leftovers are what is in envs/ but environments and their locks.
func leftovers(t testing.TB, b *Builder) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(b.Home, "envs"))
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

// checkSealed checks that an environment is read-only, and root's when
// the build ran jailed.
func checkSealed(t testing.TB, dir string, root bool) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n++
		st := fi.Sys().(*syscall.Stat_t)
		if root && (st.Uid != 0 || st.Gid != 0) {
			t.Errorf("%s is owned by %d:%d", path, st.Uid, st.Gid)
		}
		perm := fi.Mode().Perm()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
		case fi.IsDir() && perm != 0o555, fi.Mode().IsRegular() && perm != 0o444 && perm != 0o555:
			t.Errorf("%s has mode %v", path, fi.Mode())
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("walked %d files of %s: %v", n, dir, err)
	}
}

// TestPythonOffline builds requirements.txt from a wheelhouse, with pip
// told to stay offline: the environment imports, is read-only and root's;
// a second build is the first's, with nothing run; a changed
// requirements.txt is another environment.
func TestPythonOffline(t *testing.T) {
	b := jailedBuilder(t)
	python := program(t, function.Python)
	offlineWheelhouse(t)
	var log bytes.Buffer
	spec := requirements("tinypkg==1.0\n")
	spec.Log = &log
	start := time.Now()
	env, err := b.Build(context.Background(), spec)
	first := time.Since(start)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	if env.Cached || env.Size == 0 || env.Dir != filepath.Join(b.Home, "envs", env.Key) || !strings.Contains(log.String(), "Successfully installed tinypkg-1.0") {
		t.Fatalf("first build: %+v\n%s", env, log.String())
	}
	got := run(t, python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import tinypkg; print(tinypkg.X)", filepath.Join(env.Dir, PythonDir))
	if got != "42" {
		t.Fatalf("import tinypkg: %q", got)
	}
	checkSealed(t, env.Dir, true)
	if m, err := ReadMeta(env.Dir); err != nil || m.Key != env.Key || m.Runtime != "python" || m.Size != env.Size {
		t.Fatalf("meta: %+v, %v", m, err)
	}

	log.Reset()
	start = time.Now()
	again, err := b.Build(context.Background(), spec)
	cached := time.Since(start)
	if err != nil || !again.Cached || again.Key != env.Key || again.Dir != env.Dir || again.Size != env.Size || log.Len() != 0 {
		t.Fatalf("second build: %+v, %v, log %q", again, err, log.String())
	}
	t.Logf("first build %v, cached build %v", first.Round(time.Millisecond), cached.Round(time.Microsecond))

	other, err := b.Build(context.Background(), requirements("tinypkg==1.0\n# changed\n"))
	if err != nil || other.Cached || other.Key == env.Key {
		t.Fatalf("changed requirements: %+v, %v", other, err)
	}
	if n, _, _ := b.Usage(); n != 2 {
		t.Fatalf("Usage: %d environments, want 2", n)
	}
}

// TestPythonFailure: an unknown package fails the build as the
// function's fault, with pip's own words, and leaves nothing behind.
func TestPythonFailure(t *testing.T) {
	b := jailedBuilder(t)
	offlineWheelhouse(t)
	_, err := b.Build(context.Background(), requirements("tinypkg==1.0\nnosuchpkg==3.1\n"))
	if err == nil || fault.KindOf(err) != fault.Function || !strings.Contains(err.Error(), "No matching distribution found for nosuchpkg") {
		t.Fatalf("unknown package: %v (kind %d)", err, fault.KindOf(err))
	}
	if l := leftovers(t, b); len(l) != 0 {
		t.Fatalf("a failed build left %v", l)
	}
	t.Logf("the error: %v", err)
}

// TestConcurrentBuilds: two builds of one key at once run pip once; both
// get the environment.
func TestConcurrentBuilds(t *testing.T) {
	b := jailedBuilder(t)
	offlineWheelhouse(t)
	var wg sync.WaitGroup
	envs := make([]Env, 2)
	errs := make([]error, 2)
	logs := make([]bytes.Buffer, 2)
	for i := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := requirements("tinypkg==1.0\n")
			spec.Log = &logs[i]
			envs[i], errs[i] = b.Build(context.Background(), spec)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
	}
	if envs[0].Dir != envs[1].Dir || envs[0].Cached == envs[1].Cached {
		t.Fatalf("two builds of one key: %+v and %+v", envs[0], envs[1])
	}
	if n := strings.Count(logs[0].String()+logs[1].String(), "Successfully installed"); n != 1 {
		t.Fatalf("pip ran %d times", n)
	}
}

// TestNeeds: what has dependencies to build, and a package.json with
// dependencies but no lock refused with how to make one.
func TestNeeds(t *testing.T) {
	for _, c := range []struct {
		rt    function.Runtime
		files map[string]string
		want  bool
		err   string
	}{
		{function.Python, nil, false, ""},
		{function.Python, map[string]string{"requirements.txt": "# nothing\n\n"}, false, ""},
		{function.Python, map[string]string{"requirements.txt": "requests==2.31.0\n"}, true, ""},
		{function.Node, nil, false, ""},
		{function.Node, map[string]string{"package.json": `{"type": "module"}`}, false, ""},
		{function.Node, map[string]string{"package.json": `{"devDependencies": {"x": "1"}}`}, false, ""},
		{function.Node, map[string]string{"package.json": `{"dependencies": {"is-number": "7.0.0"}}`}, false, "npm install --package-lock-only"},
		{function.Node, map[string]string{"package.json": `{"dependencies": {"x": "1"}}`, "package-lock.json": "{}"}, true, ""},
		{function.Node, map[string]string{"package.json": `{"dependencies": {"x": "1"}}`, "npm-shrinkwrap.json": "{}"}, true, ""},
		{function.Node, map[string]string{"package.json": `{`}, false, "package.json"},
		{function.Bash, map[string]string{"requirements.txt": "x\n"}, false, ""},
	} {
		files := map[string][]byte{}
		for k, v := range c.files {
			files[k] = []byte(v)
		}
		got, err := Needs(c.rt, files)
		msg := ""
		if err != nil {
			msg = err.Error() + " " + fault.HintOf(err)
			if fault.KindOf(err) != fault.Usage {
				t.Errorf("%s %v: %v is not a usage error", c.rt, c.files, err)
			}
		}
		if got != c.want || (c.err == "") != (err == nil) || !strings.Contains(msg, c.err) {
			t.Errorf("Needs(%s, %v) = %v, %q", c.rt, c.files, got, msg)
		}
	}
}

// TestKey: what changes an environment's key, and what does not.
func TestKey(t *testing.T) {
	program(t, function.Python)
	b := &Builder{Home: t.TempDir(), Environ: []string{"HOME=/nonexistent"}}
	key := func(env []string, req string) string {
		t.Helper()
		b.Environ = append([]string{"HOME=/nonexistent"}, env...)
		k, err := b.Key(requirements(req))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	wheels := t.TempDir()
	base := key(nil, "x==1\n")
	if !isKey(base) || key(nil, "x==1\n") != base {
		t.Fatalf("the same inputs, another key: %q", base)
	}
	for what, k := range map[string]string{
		"requirements":        key(nil, "x==2\n"),
		"an index":            key([]string{"PIP_INDEX_URL=https://pypi.example/simple"}, "x==1\n"),
		"offline":             key([]string{"PIP_NO_INDEX=1"}, "x==1\n"),
		"a wheelhouse":        key([]string{"PIP_FIND_LINKS=" + wheels}, "x==1\n"),
		"only binary":         key([]string{"PIP_ONLY_BINARY=:all:"}, "x==1\n"),
		"an extra index":      key([]string{"PIP_EXTRA_INDEX_URL=https://pypi.example/simple"}, "x==1\n"),
		"another pip setting": key([]string{"PIP_PRE=1"}, "x==1\n"),
	} {
		if k == base {
			t.Errorf("%s does not change the key", what)
		}
	}
	before := key([]string{"PIP_FIND_LINKS=" + wheels}, "x==1\n")
	wheel(t, wheels, "x", "1", "")
	if key([]string{"PIP_FIND_LINKS=" + wheels}, "x==1\n") == before {
		t.Error("a wheel added to the wheelhouse does not change the key")
	}
	if key([]string{"PIP_CACHE_DIR=/elsewhere", "PIP_USER=1", "npm_config_offline=true", "OTHER=1"}, "x==1\n") != base {
		t.Error("a setting the build overrides, or another runtime's, changes the key")
	}
	conf := filepath.Join(t.TempDir(), "pip.conf")
	if err := os.WriteFile(conf, []byte("[global]\nindex-url = https://a.example/simple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withConf := key([]string{"PIP_CONFIG_FILE=" + conf}, "x==1\n")
	if err := os.WriteFile(conf, []byte("[global]\nindex-url = https://b.example/simple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if withConf == base || key([]string{"PIP_CONFIG_FILE=" + conf}, "x==1\n") == withConf {
		t.Error("PIP_CONFIG_FILE's content does not change the key")
	}
}

// TestInterrupted: a build cancelled while pip waits on its index is
// killed, and leaves nothing behind.
func TestInterrupted(t *testing.T) {
	b := jailedBuilder(t)
	index := hangingIndex(t)
	t.Setenv("FAAS_EGRESS_PRIVATE", "1") // the index is on this host's loopback
	t.Setenv("PIP_INDEX_URL", "http://"+index.addr+"/simple")
	t.Setenv("PIP_FIND_LINKS", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var log bytes.Buffer
	spec := requirements("tinypkg==1.0\n")
	spec.Log = &log
	go func() {
		_, err := b.Build(ctx, spec)
		done <- err
	}()
	select {
	case <-index.asked:
	case err := <-done:
		t.Fatalf("the build ended before it asked its index: %v\n%s", err, log.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("pip never asked its index (through the build's egress proxy)\n%s", log.String())
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled build: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a cancelled build did not end")
	}
	if l := leftovers(t, b); len(l) != 0 {
		t.Fatalf("an interrupted build left %v", l)
	}
	if entries, _ := os.ReadDir(filepath.Join(b.Home, "run", "jobs")); len(entries) != 0 {
		t.Fatalf("an interrupted build left its jail's directory: %v", entries)
	}
}

// BenchmarkBuild measures a first build (pip in a jail, from a
// wheelhouse) against a cached one (the key, and a look at the
// environment): go test -bench Build -benchtime 5x ./pkg/build.
func BenchmarkBuild(b *testing.B) {
	builder := jailedBuilder(b)
	offlineWheelhouse(b)
	b.Run("first", func(b *testing.B) {
		for i := range b.N {
			if _, err := builder.Build(context.Background(), requirements(fmt.Sprintf("tinypkg==1.0\n# %d\n", i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		if _, err := builder.Build(context.Background(), requirements("tinypkg==1.0\n# 0\n")); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			if env, err := builder.Build(context.Background(), requirements("tinypkg==1.0\n# 0\n")); err != nil || !env.Cached {
				b.Fatal(env, err)
			}
		}
	})
}

// TestTimeout: a build past its timeout is killed, the function's fault,
// and leaves nothing behind.
func TestTimeout(t *testing.T) {
	b := jailedBuilder(t)
	b.Timeout = 5 * time.Second
	index := hangingIndex(t)
	t.Setenv("FAAS_EGRESS_PRIVATE", "1")
	t.Setenv("PIP_INDEX_URL", "http://"+index.addr+"/simple")
	t.Setenv("PIP_FIND_LINKS", "")
	start := time.Now()
	_, err := b.Build(context.Background(), requirements("tinypkg==1.0\n"))
	if err == nil || fault.KindOf(err) != fault.Function || !strings.Contains(err.Error(), "killed after 5s (the build's timeout)") {
		t.Fatalf("a build past its timeout: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("a 5 s timeout took %v", took)
	}
	if l := leftovers(t, b); len(l) != 0 {
		t.Fatalf("a build killed at its timeout left %v", l)
	}
}
