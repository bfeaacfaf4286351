package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

var good = ent{name: "main.py", body: "print(1)\n"}

func TestHostileArchives(t *testing.T) {
	long := strings.Repeat("a", 256)
	deep := strings.Repeat("abcdefghi/", 103) + "x.py" // 1034 bytes
	for _, c := range []struct {
		name   string
		kinds  string // which of zip, tar, tgz to try
		es     []ent
		errHas string // besides the entry's name
		entry  string
	}{
		{"zip slip", "zip tar tgz", []ent{good, {name: "../evil", body: "x"}}, "climbs out", "../evil"},
		{"zip slip inside", "zip tar tgz", []ent{good, {name: "a/../../evil", body: "x"}}, "climbs out", "a/../../evil"},
		{"absolute", "zip tar tgz", []ent{good, {name: "/etc/x", body: "x"}}, "absolute", "/etc/x"},
		{"symlink to /etc/passwd", "zip tar tgz", []ent{good, {name: "pw", typ: tar.TypeSymlink, link: "/etc/passwd"}}, "leaves the tree", "pw"},
		{"symlink to ../..", "zip tar tgz", []ent{good, {name: "up", typ: tar.TypeSymlink, link: "../.."}}, "leaves the tree", "up"},
		{"symlink out of a subdirectory", "tar", []ent{good, {name: "a/up", typ: tar.TypeSymlink, link: "../../x"}}, "leaves the tree", "a/up"},
		{"symlink out through another", "tar", []ent{good, {name: "d", typ: tar.TypeSymlink, link: "sub"},
			{name: "sub/x", body: "x"}, {name: "sub/out", typ: tar.TypeSymlink, link: "../d/../../etc"}}, "leaves the tree", "sub/out"},
		{"symlink to itself", "tar", []ent{good, {name: "me", typ: tar.TypeSymlink, link: "me"}}, "loops", "me"},
		{"symlink to the root", "tar", []ent{good, {name: "root", typ: tar.TypeSymlink, link: "."}}, "loops back", "root"},
		{"dangling symlink", "zip tar", []ent{good, {name: "gone", typ: tar.TypeSymlink, link: "nope.py"}}, "points to nothing", "gone"},
		{"file under a symlink", "tar", []ent{good, {name: "l", typ: tar.TypeSymlink, link: "/etc"}, {name: "l/passwd", body: "x"}}, "not a directory", "l/passwd"},
		{"hard link", "tar tgz", []ent{good, {name: "hl", typ: tar.TypeLink, link: "main.py"}}, "hard link", "hl"},
		{"char device", "zip tar tgz", []ent{good, {name: "null", typ: tar.TypeChar}}, "character device", "null"},
		{"block device", "zip tar", []ent{good, {name: "sda", typ: tar.TypeBlock}}, "block device", "sda"},
		{"fifo", "zip tar tgz", []ent{good, {name: "pipe", typ: tar.TypeFifo}}, "named pipe", "pipe"},
		{"duplicate", "zip tar tgz", []ent{good, {name: "main.py", body: "other"}}, "appears twice", "main.py"},
		{"duplicate through ./", "zip tar", []ent{good, {name: "./main.py", body: "other"}}, "appears twice", "./main.py"},
		{"duplicate directory", "tar", []ent{good, {name: "d/"}, {name: "d/"}}, "appears twice", "d/"},
		{"file and directory", "tar", []ent{good, {name: "d", body: "x"}, {name: "d/x", body: "x"}}, "not a directory", "d/x"},
		{"directory and file", "tar", []ent{good, {name: "d/x", body: "x"}, {name: "d", body: "x"}}, "appears twice", "d"},
		{"a long component", "zip tar tgz", []ent{good, {name: long + ".py", body: "x"}}, "over 255", long + ".py"},
		{"a long path", "zip tar", []ent{good, {name: deep, body: "x"}}, "over 1024", deep},
		{"a NUL", "zip", []ent{good, {name: "a\x00b.py", body: "x"}}, "NUL", "a\x00b.py"},
		{"a backslash", "zip tar", []ent{good, {name: "..\\evil", body: "x"}}, "backslash", "..\\evil"},
		{"not UTF-8", "zip tar", []ent{good, {name: "\xff.py", body: "x"}}, "UTF-8", "\xff.py"},
		{"a control character", "zip tar", []ent{good, {name: "a\nb.py", body: "x"}}, "control character", "a\nb.py"},
		{"an empty component", "zip", []ent{good, {name: "a//b.py", body: "x"}}, "empty or .", "a//b.py"},
	} {
		for _, kind := range strings.Fields(c.kinds) {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				var data []byte
				switch kind {
				case "zip":
					data = makeZip(t, c.es)
				case "tar":
					data = makeTar(t, c.es, false)
				case "tgz":
					data = makeTar(t, c.es, true)
				}
				_, err := Read(bytes.NewReader(data), "", Options{})
				if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), c.errHas) ||
					!strings.Contains(err.Error(), fmt.Sprintf("%q", c.entry)) {
					t.Fatalf("Read = %v\nwant a usage error with %q naming %q", err, c.errHas, c.entry)
				}
				// The same archive from a file is refused the same way.
				p := putFile(t, t.TempDir(), "a."+kind, data)
				if _, ferr := Open(p, Options{}); ferr == nil || !strings.Contains(ferr.Error(), c.errHas) {
					t.Fatalf("Open = %v, want %q", ferr, c.errHas)
				}
			})
		}
	}
}

func TestTooManyFiles(t *testing.T) {
	es := make([]ent, DefaultMaxFiles+1)
	for i := range es {
		es[i] = ent{name: fmt.Sprintf("f%05d.py", i), body: "x"}
	}
	for kind, data := range map[string][]byte{"zip": makeZipMethod(t, es, zip.Store), "tar": makeTar(t, es, false)} {
		_, err := Read(bytes.NewReader(data), "", Options{})
		if err == nil || !strings.Contains(err.Error(), "more than 10000 entries") || !strings.Contains(err.Error(), `"f10000.py"`) {
			t.Errorf("%s: Read = %v, want the 10001st entry refused", kind, err)
		}
	}
	if _, err := Read(bytes.NewReader(makeTar(t, es[:DefaultMaxFiles], false)), "", Options{}); err != nil {
		t.Errorf("10000 files: %v", err)
	}
	dir := t.TempDir()
	writeTree(t, dir, es[:11])
	if _, err := Open(dir, Options{MaxFiles: 10}); err == nil || !strings.Contains(err.Error(), `more than 10 files (at "f00010.py")`) {
		t.Errorf("a directory of 11 files with MaxFiles 10: %v", err)
	}
}

func TestTooManyBytes(t *testing.T) {
	es := []ent{{name: "a", body: strings.Repeat("a", 3000)}, {name: "b", body: strings.Repeat("b", 3000)}}
	opts := Options{MaxUnpacked: 4096}
	for kind, data := range map[string][]byte{"zip": makeZip(t, es), "tar": makeTar(t, es, false)} {
		if _, err := Read(bytes.NewReader(data), "", opts); err == nil || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "4 KiB") {
			t.Errorf("%s: Read = %v, want b refused past 4 KiB", kind, err)
		}
	}
	dir := t.TempDir()
	writeTree(t, dir, es)
	if _, err := Open(dir, opts); err == nil || !strings.Contains(err.Error(), `at "b" the files add up to more than 4 KiB`) {
		t.Errorf("directory: %v", err)
	}
}

// zeros writes mib MiB of zeros as a raw deflate stream without holding
// them: one flushed segment of a MiB, repeated, then a final empty block.
func zeros(t testing.TB, w io.Writer, mib int) (compressed int64, crc uint32) {
	t.Helper()
	var seg bytes.Buffer
	fw, err := flate.NewWriter(&seg, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	mb := make([]byte, 1<<20)
	if _, err := fw.Write(mb); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	h := crc32.NewIEEE()
	for range mib {
		if _, err := w.Write(seg.Bytes()); err != nil {
			t.Fatal(err)
		}
		h.Write(mb)
	}
	if _, err := w.Write([]byte{0x03, 0x00}); err != nil {
		t.Fatal(err)
	}
	return int64(seg.Len()*mib + 2), h.Sum32()
}

// zipBomb writes a zip whose one entry is mib MiB of zeros and says it
// is declared bytes (a lie when they differ).
func zipBomb(t testing.TB, path string, mib int, declared uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, crc := zeros(t, io.Discard, mib)
	zw := zip.NewWriter(f)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(n), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	zeros(t, w, mib)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// tgzBomb writes a tar.gz whose entry bomb.bin is mib MiB of zeros: two
// gzip members, the tar header, then the zeros and the tar's end.
func tgzBomb(t testing.TB, path string, mib int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bomb.bin", Mode: 0o644, Size: int64(mib) << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(gzipped(t, hdr.Bytes())); err != nil {
		t.Fatal(err)
	}
	// A gzip member by hand: header, deflate, CRC-32 and size.
	if _, err := f.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}); err != nil {
		t.Fatal(err)
	}
	_, crc := zeros(t, f, mib)
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(mib<<20))
	if _, err := f.Write(trailer[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(gzipped(t, make([]byte, 1024))); err != nil {
		t.Fatal(err)
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBombs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		make   func(path string)
		file   string
		errHas string
	}{
		{"1 GiB that says so", func(p string) { zipBomb(t, p, 1024, 1<<30) }, "a.zip", "says it unpacks to 1073741824 bytes"},
		{"1 GiB that says 100 MiB", func(p string) { zipBomb(t, p, 1024, 100<<20) }, "a.zip", "refused as a zip bomb"},
		{"200 MiB that says so", func(p string) { zipBomb(t, p, 200, 200<<20) }, "a.zip", "refused as a zip bomb"},
		{"200 MiB in a tar.gz", func(p string) { tgzBomb(t, p, 200) }, "a.tgz", "refused as a zip bomb"},
		{"1 GiB in a tar.gz", func(p string) { tgzBomb(t, p, 1024) }, "b.tgz", "says it unpacks to"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.file)
			c.make(p)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err = Open(p, Options{})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), c.errHas) || !strings.Contains(err.Error(), `"bomb.bin"`) {
				t.Fatalf("Open = %v, want a usage error with %q naming bomb.bin", err, c.errHas)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte archive refused in %v, %d KiB allocated", fi.Size(), took, alloc>>10)
			if alloc > 32<<20 {
				t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
			}
			if took > 5*time.Second {
				t.Errorf("refusing the bomb took %v", took)
			}
		})
	}
	// With the ratio lifted, zeros that say what they are are just a
	// large file.
	p := filepath.Join(dir, "honest.zip")
	zipBomb(t, p, 20, 20<<20)
	if b, err := Open(p, Options{MaxRatio: 1 << 20}); err != nil || b.Size() != 20<<20 {
		t.Fatalf("20 MiB of zeros with MaxRatio lifted: %v", err)
	}
}
