package bundle

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/fault"
)

// project is a directory function: main.py imports its sibling package.
var project = []ent{
	{name: "main.py", body: "from pkg import util\ndef handler(e, c):\n    return util.f(e)\n"},
	{name: "pkg/__init__.py", body: ""},
	{name: "pkg/util.py", body: "def f(e):\n    return e\n"},
	{name: "run.sh", body: "#!/bin/sh\necho hi\n", mode: 0o755},
	{name: "requirements.txt", body: "requests==2.32.3\n"},
}

func TestOpenDirIgnores(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	writeTree(t, dir, []ent{
		{name: IgnoreFile, body: "# build output\n*.log\n!keep.log\nbuild/\n/secret.txt\ndocs/**/*.md\n"},
		{name: "pkg/__pycache__/util.cpython-312.pyc", body: "junk"},
		{name: ".git/HEAD", body: "ref: refs/heads/main\n"},
		{name: "node_modules/x/index.js", body: "junk"},
		{name: ".venv/bin/python", body: "junk"},
		{name: "old.pyc", body: "junk"},
		{name: ".DS_Store", body: "junk"},
		{name: "debug.log", body: "junk"},
		{name: "pkg/trace.log", body: "junk"},
		{name: "keep.log", body: "kept"},
		{name: "build/out.bin", body: "junk"},
		{name: "src/build", body: "a file named build is kept"},
		{name: "secret.txt", body: "junk"},
		{name: "sub/secret.txt", body: "only the root's is ignored"},
		{name: "docs/a/b/x.md", body: "junk"},
		{name: "docs/readme.txt", body: "kept"},
		{name: "empty/"},
	})
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docs/readme.txt", "keep.log", "main.py", "pkg/__init__.py", "pkg/util.py",
		"requirements.txt", "run.sh", "src/build", "sub/secret.txt"}
	if got := paths(b); !equalPaths(got, want) {
		t.Fatalf("files\n got %q\nwant %q", got, want)
	}
	for _, f := range b.Files() {
		wantMode := os.FileMode(0o444)
		if f.Path == "run.sh" {
			wantMode = 0o555
		}
		if f.Mode != wantMode {
			t.Errorf("%s: mode %v, want %v", f.Path, f.Mode, wantMode)
		}
	}
	if b.Single() || !b.Has("requirements.txt") || b.Has("package.json") {
		t.Errorf("Single %v, Has(requirements.txt) %v, Has(package.json) %v", b.Single(), b.Has("requirements.txt"), b.Has("package.json"))
	}
	if data, ok := b.File("pkg/util.py"); !ok || string(data) != project[2].body {
		t.Errorf("File(pkg/util.py) = %q, %v", data, ok)
	}
	var size int64
	for _, f := range b.Files() {
		size += int64(len(f.Data))
	}
	if b.Size() != size {
		t.Errorf("Size %d, want %d", b.Size(), size)
	}
}

func TestOpenDirSymlinks(t *testing.T) {
	for _, c := range []struct {
		name   string
		link   string // the target of "link"; "ABS:" prefixes the tree's absolute path
		want   []string
		errHas string
	}{
		{"to a file", "pkg/util.py", []string{"link", "main.py", "pkg/__init__.py", "pkg/util.py", "requirements.txt", "run.sh"}, ""},
		{"to a directory", "pkg", []string{"link/__init__.py", "link/util.py", "main.py", "pkg/__init__.py", "pkg/util.py", "requirements.txt", "run.sh"}, ""},
		{"absolute, inside", "ABS:main.py", []string{"link", "main.py", "pkg/__init__.py", "pkg/util.py", "requirements.txt", "run.sh"}, ""},
		{"absolute, outside", "/etc/passwd", nil, `symlink "link" -> "/etc/passwd" leaves the tree`},
		{"relative, outside", "../outside.py", nil, `symlink "link" -> "../outside.py" leaves the tree`},
		{"through a directory, outside", "pkg/../../outside.py", nil, "leaves the tree"},
		{"dangling", "nope.py", nil, `symlink "link" -> "nope.py" points to nothing`},
		{"a loop to the root", ".", nil, "loops back"},
		{"a loop of links", "link", nil, "loops"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "proj")
			writeTree(t, dir, project)
			putFile(t, parent, "outside.py", []byte("secret"))
			target := strings.Replace(c.link, "ABS:", dir+"/", 1)
			if err := os.Symlink(target, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			b, err := Open(dir, Options{})
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) || fault.KindOf(err) != fault.Usage {
					t.Fatalf("Open = %v, want a usage error with %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(b); !equalPaths(got, c.want) {
				t.Fatalf("files\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestOpenDirIgnoredSymlinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	writeTree(t, dir, []ent{{name: IgnoreFile, body: "escape\n"}, {name: "escape", typ: tar.TypeSymlink, link: "/etc"}})
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirBadNames(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	// macOS's folder icon file, and a path over 1024 bytes, both in
	// node_modules.
	deep := "node_modules/" + strings.Repeat("n/", 600) + "x.js"
	writeTree(t, dir, []ent{{name: "node_modules/Icon\r", body: "ignored"}, {name: deep, body: "ignored"}})
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatalf("a bad name in an ignored directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Icon\r"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Fatalf("a bad name kept: %v", err)
	}
}

func TestOpenDirSpecialFile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	// A socket stands for every file that is neither a file nor a
	// directory (a fifo would need mkfifo, which the os package lacks).
	l, err := listenUnix(filepath.Join(dir, "agent.sock"))
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	_, err = Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `"agent.sock" is a socket`) {
		t.Fatalf("Open = %v, want the socket refused", err)
	}
}

// same is one tree as a directory and as archives of every kind.
func TestSameTreeSameSHA(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	fromDir, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Archives with directory entries, "./" names, other orders, mtimes
	// and owners, and one with everything under a top-level directory.
	zipped := makeZip(t, append([]ent{{name: "pkg/"}}, reversed(project)...))
	dotted := make([]ent, 0, len(project)+1)
	dotted = append(dotted, ent{name: "./"})
	for _, e := range project {
		e.name = "./" + e.name
		dotted = append(dotted, e)
	}
	prefixed := []ent{{name: "proj/"}}
	for _, e := range project {
		e.name = "proj/" + e.name
		prefixed = append(prefixed, e)
	}
	tmp := t.TempDir()
	sources := map[string]string{
		"a.zip":        putFile(t, tmp, "a.zip", zipped),
		"a.tar.gz":     putFile(t, tmp, "a.tar.gz", makeTar(t, dotted, true)),
		"a.tgz":        putFile(t, tmp, "a.tgz", makeTar(t, prefixed, true)),
		"a.tar":        putFile(t, tmp, "a.tar", makeTar(t, project, false)),
		"prefixed.zip": putFile(t, tmp, "prefixed.zip", makeZip(t, prefixed)),
	}
	for name, p := range sources {
		b, err := Open(p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.SHA256() != fromDir.SHA256() || !bytes.Equal(b.Tar(), fromDir.Tar()) {
			t.Errorf("%s: sha %s, the directory's %s (files %q)", name, b.SHA256(), fromDir.SHA256(), paths(b))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err = Read(bytes.NewReader(data), "ignored", Options{})
		if err != nil {
			t.Fatalf("%s on stdin: %v", name, err)
		}
		if b.SHA256() != fromDir.SHA256() {
			t.Errorf("%s on stdin: sha %s, the directory's %s", name, b.SHA256(), fromDir.SHA256())
		}
	}
	// A changed byte, name or executable bit is another version.
	other := append([]ent(nil), project...)
	other[3].mode = 0o644
	b, err := Read(bytes.NewReader(makeZip(t, other)), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.SHA256() == fromDir.SHA256() {
		t.Error("an executable bit dropped kept the sha")
	}
}

func reversed(es []ent) []ent {
	out := make([]ent, len(es))
	for i, e := range es {
		out[len(es)-1-i] = e
	}
	return out
}

func TestCanonicalTar(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, project)
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b.Tar()))
	var names []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
		if hdr.Typeflag != tar.TypeReg || hdr.ModTime.Unix() != 0 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" ||
			(hdr.Mode != 0o444 && hdr.Mode != 0o555) {
			t.Errorf("%s: header %+v is not canonical", hdr.Name, hdr)
		}
	}
	if !equalPaths(names, paths(b)) {
		t.Errorf("tar entries %q, files %q", names, paths(b))
	}
	if len(b.SHA256()) != 64 {
		t.Errorf("SHA256 %q", b.SHA256())
	}
}

func TestOpenSingleFile(t *testing.T) {
	dir := t.TempDir()
	p := putFile(t, dir, "fn.py", []byte("def handler(e, c):\n    return 1\n"))
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Single() || !equalPaths(paths(b), []string{"fn.py"}) || b.Files()[0].Mode != 0o555 {
		t.Fatalf("Single %v, files %+v", b.Single(), b.Files())
	}
	// A plain file on stdin is the same bundle, less the executable bit.
	s, err := Read(strings.NewReader("def handler(e, c):\n    return 1\n"), "fn.py", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Single() || !equalPaths(paths(s), []string{"fn.py"}) || s.Files()[0].Mode != 0o444 {
		t.Fatalf("stdin: Single %v, files %+v", s.Single(), s.Files())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	big := putFile(t, dir, "big.py", bytes.Repeat([]byte("x"), 2048))
	notZip := putFile(t, dir, "bad.zip", []byte("not a zip"))
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	badIgnore := filepath.Join(dir, "badignore")
	writeTree(t, badIgnore, []ent{{name: "main.py", body: "x"}, {name: IgnoreFile, body: "ok\n[unclosed\n"}})
	for _, c := range []struct {
		name, path string
		opts       Options
		errHas     string
	}{
		{"missing", filepath.Join(dir, "nope.py"), Options{}, "no such file"},
		{"too big", big, Options{MaxUnpacked: 1024}, "more than 1 KiB"},
		{"not a zip", notZip, Options{}, "not a zip archive"},
		{"an empty directory", empty, Options{}, "no files to deploy"},
		{"a bad .faasignore", badIgnore, Options{}, "line 2"},
		{"a device", "/dev/null", Options{}, "character device"},
	} {
		_, err := Open(c.path, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.errHas) || fault.KindOf(err) != fault.Usage {
			t.Errorf("%s: Open = %v, want a usage error with %q", c.name, err, c.errHas)
		}
	}
	for _, c := range []struct {
		name, in, file, errHas string
	}{
		{"no name", "print(1)", "", "needs a name"},
		{"a path for a name", "print(1)", "a/b.py", "cannot name a file"},
		{"a bad gzip", "\x1f\x8bnot really", "", "not a gzip stream"},
	} {
		_, err := Read(strings.NewReader(c.in), c.file, Options{})
		if err == nil || !strings.Contains(err.Error(), c.errHas) || fault.KindOf(err) != fault.Usage {
			t.Errorf("%s: Read = %v, want a usage error with %q", c.name, err, c.errHas)
		}
	}
}

func TestMacJunkDropped(t *testing.T) {
	z := makeZip(t, []ent{{name: "proj/main.py", body: "x"}, {name: "__MACOSX/proj/._main.py", body: "junk"}})
	b, err := Read(bytes.NewReader(z), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalPaths(paths(b), []string{"main.py"}) {
		t.Fatalf("files %q", paths(b))
	}
}
