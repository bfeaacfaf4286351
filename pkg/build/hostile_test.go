package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

// sdist writes a source distribution whose build backend (in the sdist
// itself, so nothing is downloaded) runs code, as a setup.py does: it
// tries what a hostile package would, and builds a wheel whose module
// says how each try went.
func sdist(t testing.TB, dir string, probes []string) {
	t.Helper()
	backend := fmt.Sprintf(`import os, socket, zipfile
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    res = {"uid": os.getuid()}
    for p in [%s]:
        try:
            with open(p, "w") as f:
                f.write("owned")
            res[p] = "written"
        except OSError as e:
            res[p] = e.strerror
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        res["net"] = "connected"
    except OSError as e:
        res["net"] = str(e)
    name = "hostile-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("hostile/__init__.py", "RESULT = %%r\n" %% res)
        z.writestr("hostile-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: hostile\nVersion: 1.0\n")
        z.writestr("hostile-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("hostile-1.0.dist-info/RECORD", "")
    return name
`, quoted(probes))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range map[string]string{
		"pyproject.toml": "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
		"backend.py":     backend,
		"PKG-INFO":       "Metadata-Version: 2.1\nName: hostile\nVersion: 1.0\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: "hostile-1.0/" + name, Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hostile-1.0.tar.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// quoted is a list of paths as Python writes one.
func quoted(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(q, ", ")
}

// TestHostileBuild: a package's own build code runs as the builds' uid,
// cannot write outside the environment it builds (the jail's root, the
// wheelhouse, FAAS_HOME) nor reach the network when offline; the
// environment is then root's and read-only.
func TestHostileBuild(t *testing.T) {
	b := jailedBuilder(t)
	python := program(t, function.Python)
	wheels := offlineWheelhouse(t)
	probes := []string{"/escape", "/opt/escape", "/usr/escape", filepath.Join(wheels, "escape"), filepath.Join(b.Home, "escape")}
	sdist(t, wheels, probes)
	var log bytes.Buffer
	spec := requirements("hostile==1.0\n")
	spec.Log = &log
	env, err := b.Build(context.Background(), spec)
	t.Cleanup(func() { os.Remove("/escape"); os.Remove("/opt/escape"); os.Remove("/usr/escape") })
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	got := run(t, python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import hostile; print(repr(hostile.RESULT))", filepath.Join(env.Dir, PythonDir))
	t.Logf("what the build's code could do: %s", got)
	if want := fmt.Sprintf("'uid': %d,", sandbox.UIDFor("build")); !strings.Contains(got, want) {
		t.Errorf("the build did not run as the builds' uid (%s): %s", want, got)
	}
	if strings.Contains(got, "'written'") || strings.Contains(got, "'connected'") {
		t.Errorf("a build wrote outside its environment or reached the network: %s", got)
	}
	for _, p := range probes {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the build wrote %s on the host", p)
		}
	}
	checkSealed(t, env.Dir, true)
}

// TestNodeLocalDependencyOutside: a file: dependency outside the
// function's directory, by path or through a link, is refused before
// anything runs.
func TestNodeLocalDependencyOutside(t *testing.T) {
	program(t, function.Node)
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("no npm here")
	}
	b := &Builder{Home: t.TempDir()}
	src := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(src, "vendor")); err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"file:../../../etc", "../x.tgz", "file:/etc/passwd", "file:vendor/passwd"} {
		spec := Spec{Runtime: function.Node, SourceDir: src, Files: map[string][]byte{
			"package.json":      []byte(`{"dependencies": {"evil": "` + dep + `"}}`),
			"package-lock.json": []byte(`{"lockfileVersion": 3, "packages": {}}`),
		}}
		_, err := b.Build(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "outside the function's directory") {
			t.Errorf("%s: %v", dep, err)
		}
	}
	if l := leftovers(t, b); len(l) != 0 {
		t.Fatalf("a refused build left %v", l)
	}
}
