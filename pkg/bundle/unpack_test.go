package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/faasdev/faas/pkg/fault"
)

func TestUnpackRoundTrip(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, project)
	writeTree(t, src, []ent{{name: "a/b/c/deep.js", body: "module.exports = 1\n"}, {name: "bin/tool", body: "#!/bin/sh\n", mode: 0o700},
		// Past ustar's 100-byte names, and not ASCII: PAX records.
		{name: "dönüş/" + strings.Repeat("long", 60) + ".py", body: "x = 1\n"}})
	b, err := Open(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "code", b.SHA256())
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Unpack(b.Tar(), dir); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if fi.Mode().Perm() != 0o555 {
				t.Errorf("directory %s: mode %v, want 0555", rel, fi.Mode())
			}
			return nil
		}
		got = append(got, filepath.ToSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want, ok := b.File(filepath.ToSlash(rel))
		if !ok || !bytes.Equal(data, want) {
			t.Errorf("%s: %q, the bundle's %q", rel, data, want)
		}
		wantMode := fs.FileMode(0o444)
		if rel == "run.sh" || rel == filepath.Join("bin", "tool") {
			wantMode = 0o555
		}
		if fi.Mode() != wantMode {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), wantMode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !equalPaths(got, paths(b)) {
		t.Errorf("unpacked %q, bundled %q", got, paths(b))
	}
	again, err := Open(dir, Options{})
	if err != nil || again.SHA256() != b.SHA256() {
		t.Errorf("the unpacked tree opens as %v, %v; want sha %s", again, err, b.SHA256())
	}
	leftovers(t, filepath.Dir(dir), b.SHA256())

	// Unpacking again finds it there.
	if err := Unpack(b.Tar(), dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second Unpack = %v, want fs.ErrExist", err)
	}
}

// leftovers fails if dir holds anything but want.
func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if !equalPaths(names, want) {
		t.Errorf("%s holds %q, want %q", dir, names, want)
	}
}

func TestUnpackConcurrent(t *testing.T) {
	b, err := Read(bytes.NewReader(makeZip(t, project)), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "code")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Unpack(b.Tar(), dir)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("Unpack: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d unpacks won, want 1 (%v)", won, errs)
	}
	leftovers(t, parent, "code")
}

func TestUnpackRefusesHostileTar(t *testing.T) {
	good1 := ent{name: "a.py", body: "print(1)\n", mode: 0o444}
	good2 := ent{name: "pkg/b.py", body: "print(2)\n", mode: 0o444}
	big := ent{name: "big.bin", body: strings.Repeat("x", 5000), mode: 0o444}
	for _, c := range []struct {
		name   string
		es     []ent
		opts   Options
		errHas string
	}{
		{"zip slip after good files", []ent{good1, good2, {name: "../evil", body: "x"}}, Options{}, `"../evil"`},
		{"absolute", []ent{good1, {name: "/etc/x", body: "x"}}, Options{}, `"/etc/x"`},
		{"a ./ name", []ent{good1, {name: "./c.py", body: "x"}}, Options{}, `"./c.py"`},
		{"a symlink", []ent{good1, good2, {name: "pw", typ: tar.TypeSymlink, link: "/etc/passwd"}}, Options{}, `"pw"`},
		{"a hard link", []ent{good1, {name: "hl", typ: tar.TypeLink, link: "a.py"}}, Options{}, `"hl"`},
		{"a directory entry", []ent{good1, {name: "pkg/"}}, Options{}, `"pkg/"`},
		{"a fifo", []ent{good1, {name: "p", typ: tar.TypeFifo}}, Options{}, `"p"`},
		{"a char device", []ent{good1, {name: "null", typ: tar.TypeChar}}, Options{}, `"null"`},
		{"a duplicate", []ent{good1, good2, good1}, Options{}, `"a.py": appears twice`},
		{"a file over a directory", []ent{good2, {name: "pkg", body: "x"}}, Options{}, `"pkg": is a file where entries before it made a directory`},
		{"a directory over a file", []ent{good1, {name: "a.py/x", body: "x"}}, Options{}, `which is a file`},
		{"a long name", []ent{good1, {name: strings.Repeat("n", 256), body: "x"}}, Options{}, "over 255"},
		{"too many files", []ent{good1, good2, {name: "c.py", body: "x"}}, Options{MaxFiles: 2}, `"c.py": more than 2 entries`},
		{"too many bytes", []ent{good1, good2, big}, Options{MaxUnpacked: 4096}, `"big.bin": unpacks to more than 4 KiB`},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "code")
			err := UnpackWith(makeTar(t, c.es, false), dir, c.opts)
			if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("Unpack = %v, want a usage error with %s", err, c.errHas)
			}
			leftovers(t, parent)
		})
	}
	parent := t.TempDir()
	for name, data := range map[string][]byte{"garbage": []byte("not a tar at all, not even close......"), "empty": nil,
		"truncated": makeTar(t, []ent{good1, big}, false)[:2048]} {
		if err := Unpack(data, filepath.Join(parent, name)); err == nil {
			t.Errorf("%s: Unpack succeeded", name)
		}
	}
	leftovers(t, parent)
}

func TestUnpackNeedsAFreshDirectory(t *testing.T) {
	b, err := Read(strings.NewReader("print(1)\n"), "fn.py", Options{})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "code")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Unpack(b.Tar(), dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Unpack into an existing empty directory = %v, want fs.ErrExist", err)
	}
	if err := Unpack(b.Tar(), filepath.Join(parent, "no", "parent")); err == nil {
		t.Error("Unpack below a missing directory succeeded")
	}
	leftovers(t, parent, "code")
}

func FuzzRead(f *testing.F) {
	f.Add(makeZip(f, project))
	f.Add(makeTar(f, project, true))
	f.Add(makeTar(f, []ent{good, {name: "l", typ: tar.TypeSymlink, link: "main.py"}}, false))
	f.Add([]byte("print(1)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Read(bytes.NewReader(data), "fn.py", Options{MaxUnpacked: 1 << 20})
		if err != nil {
			if fault.KindOf(err) != fault.Usage {
				t.Fatalf("Read: %v is not a usage error", err)
			}
			return
		}
		dir := filepath.Join(t.TempDir(), "code")
		if err := Unpack(b.Tar(), dir); err != nil {
			t.Fatalf("Unpack of a canonical tar: %v", err)
		}
		again, err := Open(dir, Options{})
		if err != nil || again.SHA256() != b.SHA256() {
			t.Fatalf("the unpacked tree opens as %v; want sha %s", err, b.SHA256())
		}
	})
}
