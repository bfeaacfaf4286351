package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// ent is one entry of an archive a test makes.
type ent struct {
	name string
	body string
	mode int64 // permissions; 0 means 0644
	typ  byte  // tar type; 0 means a regular file ('/' in the name: a directory)
	link string
}

func (e ent) perm() int64 {
	if e.mode == 0 {
		return 0o644
	}
	return e.mode
}

func makeTar(t testing.TB, es []ent, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for i, e := range es {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
			if len(e.name) > 0 && e.name[len(e.name)-1] == '/' {
				typ = tar.TypeDir
			}
		}
		hdr := &tar.Header{Typeflag: typ, Name: e.name, Mode: e.perm(), Linkname: e.link,
			ModTime: time.Unix(int64(1700000000+i*7), 0), Uid: 1000 + i, Uname: "someone", Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// makeZip writes es; a tar type of a symlink, a fifo or a device is made
// with the unix mode bits zip keeps in its external attributes.
func makeZip(t testing.TB, es []ent) []byte { return makeZipMethod(t, es, zip.Deflate) }

// makeZipMethod is makeZip with a compression method: zip.Store spares a
// test of many entries a compressor each (slow under -race).
func makeZipMethod(t testing.TB, es []ent, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: method, Modified: time.Unix(1600000000, 0)}
		mode := fs.FileMode(e.perm())
		switch {
		case e.typ == tar.TypeSymlink:
			mode = fs.ModeSymlink | 0o777
			e.body = e.link
		case e.typ == tar.TypeFifo:
			mode = fs.ModeNamedPipe | 0o644
		case e.typ == tar.TypeChar:
			mode = fs.ModeDevice | fs.ModeCharDevice | 0o644
		case e.typ == tar.TypeBlock:
			mode = fs.ModeDevice | 0o644
		case len(e.name) > 0 && e.name[len(e.name)-1] == '/':
			mode = fs.ModeDir | 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip header %q: %v", e.name, err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree makes files under dir: a name ending in "/" is a directory, a
// mode of 0755 an executable.
func writeTree(t testing.TB, dir string, es []ent) {
	t.Helper()
	for _, e := range es {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if e.name[len(e.name)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeSymlink {
			if err := os.Symlink(e.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(e.body), fs.FileMode(e.perm())); err != nil {
			t.Fatal(err)
		}
	}
}

func putFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func paths(b *Bundle) []string {
	var ps []string
	for _, f := range b.Files() {
		ps = append(ps, f.Path)
	}
	return ps
}

func equalPaths(got, want []string) bool {
	return slices.Equal(got, want) || (len(got) == 0 && len(want) == 0)
}

func listenUnix(p string) (net.Listener, error) { return net.Listen("unix", p) }
