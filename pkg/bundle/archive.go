package bundle

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
)

// maxLink bounds a symlink's target as stored in an archive.
const maxLink = 4096

// macJunk is the folder of resource forks that macOS's Finder adds to the
// zips it makes; it is never part of a function.
const macJunk = "__MACOSX"

// unpacker reads one archive's entries into a memTree, counting entries
// and the bytes they actually decompress to.
type unpacker struct {
	opts     Options
	what     string
	tree     *memTree
	entries  int
	unpacked int64
	zin      *countingReader // the compressed side of the zip entry being read
}

func newUnpacker(what string, opts Options) *unpacker {
	return &unpacker{opts: opts, what: what, tree: newMemTree(what)}
}

func (u *unpacker) usagef(name, format string, args ...any) error {
	return fault.Usagef("%s: entry %q: %s", u.what, name, fmt.Sprintf(format, args...))
}

// admit counts one entry and checks its name; root reports the tree's own
// entry ("./"), which adds nothing.
func (u *unpacker) admit(name string) (p string, root bool, err error) {
	if u.entries++; u.entries > u.opts.MaxFiles {
		return "", false, fault.Usagef("%s: more than %d entries (at %q)", u.what, u.opts.MaxFiles, name)
	}
	p, root, err = cleanEntry(name)
	if err != nil {
		return "", false, fault.Usagef("%s: %w", u.what, err)
	}
	return p, root, nil
}

// read reads an entry's content, never more than the bytes the bundle may
// still hold, and stops as soon as bomb says the ratio of what was read so
// far to what it came from gives the archive away.
func (u *unpacker) read(name string, r io.Reader, sizeHint int64, bomb func(unpacked int64) bool) ([]byte, error) {
	budget := u.opts.MaxUnpacked - u.unpacked
	if sizeHint > budget {
		return nil, u.usagef(name, "says it unpacks to %d bytes, more than the %s a bundle may hold", sizeHint, human(u.opts.MaxUnpacked))
	}
	// One byte over the hint, so that reading to EOF does not grow buf.
	buf := make([]byte, 0, min(max(sizeHint, 0), 1<<20)+1)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		// At most 64 KiB a read, so bomb looks often.
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+64<<10)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > budget {
			return nil, u.usagef(name, "the archive unpacks to more than %s", human(u.opts.MaxUnpacked))
		}
		if bomb != nil && bomb(u.unpacked+int64(len(buf))) {
			return nil, u.usagef(name, "unpacks to more than %d times its compressed size: refused as a zip bomb", u.opts.MaxRatio)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, u.usagef(name, "%v", err)
		}
	}
	u.unpacked += int64(len(buf))
	return buf, nil
}

// readZip reads a zip from r (size bytes).
func (u *unpacker) readZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fault.Usagef("%s: not a zip archive: %w", u.what, err)
	}
	// Counting the compressed bytes an entry's inflater has consumed lets
	// a bomb be told after its first MiB, not after MaxRatio times its
	// whole compressed size.
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser {
		u.zin = &countingReader{r: r}
		return flate.NewReader(u.zin)
	})
	if len(zr.File) > u.opts.MaxFiles {
		return fault.Usagef("%s: more than %d entries (at %q)", u.what, u.opts.MaxFiles, zr.File[u.opts.MaxFiles].Name)
	}
	for _, f := range zr.File {
		if err := u.zipEntry(f); err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacker) zipEntry(f *zip.File) error {
	p, root, err := u.admit(f.Name)
	if err != nil {
		return err
	}
	if p == macJunk || strings.HasPrefix(p, macJunk+"/") {
		return nil
	}
	mode := f.Mode()
	isDir := mode.IsDir() || strings.HasSuffix(f.Name, "/")
	if root {
		if !isDir {
			return u.usagef(f.Name, "a file without a name")
		}
		return nil
	}
	if f.Flags&0x1 != 0 {
		return u.usagef(f.Name, "it is encrypted")
	}
	switch {
	case isDir:
		return u.tree.add(f.Name, p, &memNode{mode: fs.ModeDir})
	case mode&fs.ModeSymlink != 0, mode.IsRegular():
	default:
		return u.usagef(f.Name, "it is a %s", kindOf(mode))
	}
	u.zin = nil
	rc, err := f.Open()
	if err != nil {
		return u.usagef(f.Name, "%v", err)
	}
	defer rc.Close()
	bomb := func(unpacked int64) bool {
		n, in := unpacked-u.unpacked, int64(f.CompressedSize64)
		if u.zin != nil {
			in = u.zin.n
		}
		return n > ratioFloor && n > in*u.opts.MaxRatio
	}
	declared := int64(min(f.UncompressedSize64, 1<<62))
	if mode&fs.ModeSymlink != 0 {
		if declared > maxLink {
			return u.usagef(f.Name, "a symlink of %d bytes", declared)
		}
		target, err := u.read(f.Name, rc, declared, bomb)
		if err != nil {
			return err
		}
		return u.link(f.Name, p, string(target))
	}
	data, err := u.read(f.Name, rc, declared, bomb)
	if err != nil {
		return err
	}
	return u.tree.add(f.Name, p, &memNode{mode: mode & 0o777, data: data})
}

// link adds a symlink, whose target is checked when the tree is walked.
func (u *unpacker) link(name, p, target string) error {
	if target == "" || len(target) > maxLink || strings.ContainsRune(target, 0) {
		return u.usagef(name, "a symlink with an empty, over-long or NUL target")
	}
	return u.tree.add(name, p, &memNode{mode: fs.ModeSymlink, link: target})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// readTarGz reads a gzip-compressed tar. The ratio is that of all files'
// bytes read so far to the compressed bytes consumed so far: a tar's
// entries share one compressed stream.
func (u *unpacker) readTarGz(r io.Reader) error {
	in := &countingReader{r: r}
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fault.Usagef("%s: not a gzip stream: %w", u.what, err)
	}
	defer zr.Close()
	return u.readTar(zr, func(unpacked int64) bool {
		return unpacked > ratioFloor && unpacked > in.n*u.opts.MaxRatio
	})
}

// readTar reads a tar; bomb is nil for one that is not compressed.
func (u *unpacker) readTar(r io.Reader, bomb func(int64) bool) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fault.Usagef("%s: not a tar archive, or a damaged one: %w", u.what, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader { // git archive's pax_global_header
			continue
		}
		if err := u.tarEntry(tr, hdr, bomb); err != nil {
			return err
		}
	}
}

func (u *unpacker) tarEntry(tr *tar.Reader, hdr *tar.Header, bomb func(int64) bool) error {
	p, root, err := u.admit(hdr.Name)
	if err != nil {
		return err
	}
	if root {
		if hdr.Typeflag != tar.TypeDir {
			return u.usagef(hdr.Name, "a file without a name")
		}
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old tars still use '\x00'
		data, err := u.read(hdr.Name, tr, hdr.Size, bomb)
		if err != nil {
			return err
		}
		return u.tree.add(hdr.Name, p, &memNode{mode: fs.FileMode(hdr.Mode) & 0o777, data: data})
	case tar.TypeDir:
		return u.tree.add(hdr.Name, p, &memNode{mode: fs.ModeDir})
	case tar.TypeSymlink:
		return u.link(hdr.Name, p, hdr.Linkname)
	case tar.TypeLink:
		return u.usagef(hdr.Name, "a hard link (to %q): archive the file itself", hdr.Linkname)
	case tar.TypeChar:
		return u.usagef(hdr.Name, "it is a character device")
	case tar.TypeBlock:
		return u.usagef(hdr.Name, "it is a block device")
	case tar.TypeFifo:
		return u.usagef(hdr.Name, "it is a named pipe")
	}
	return u.usagef(hdr.Name, "an entry of tar type %q, which a bundle cannot hold", hdr.Typeflag)
}

// memNode is one entry of an archive read into memory.
type memNode struct {
	mode     fs.FileMode // fs.ModeDir, fs.ModeSymlink, or a file's permissions
	data     []byte
	link     string
	kids     []string
	explicit bool // a directory with an entry of its own
}

// memTree is an archive's entries as a tree, the source an archive's
// bundle is walked from.
type memTree struct {
	what  string
	nodes map[string]*memNode
}

func newMemTree(what string) *memTree {
	return &memTree{what: what, nodes: map[string]*memNode{"": {mode: fs.ModeDir, explicit: true}}}
}

// add puts an entry at p, making the directories above it.
func (t *memTree) add(name, p string, n *memNode) error {
	parts := strings.Split(p, "/")
	dir := ""
	for _, c := range parts[:len(parts)-1] {
		next := join(dir, c)
		switch d, ok := t.nodes[next]; {
		case !ok:
			t.nodes[next] = &memNode{mode: fs.ModeDir}
			t.nodes[dir].kids = append(t.nodes[dir].kids, c)
		case !d.mode.IsDir():
			return fault.Usagef("%s: entry %q is inside %q, which is not a directory", t.what, name, next)
		}
		dir = next
	}
	n.explicit = true
	if old, ok := t.nodes[p]; ok {
		if old.mode.IsDir() && n.mode.IsDir() && !old.explicit {
			old.explicit = true
			return nil
		}
		return fault.Usagef("%s: entry %q appears twice", t.what, name)
	}
	t.nodes[p] = n
	t.nodes[dir].kids = append(t.nodes[dir].kids, parts[len(parts)-1])
	return nil
}

// top is where an archive's tree starts: the one directory at its root
// when it has nothing else (as `zip -r proj.zip proj` and
// `git archive --prefix=proj/` make), else its root.
func (t *memTree) top() string {
	kids := t.nodes[""].kids
	if len(kids) == 1 && t.nodes[kids[0]].mode.IsDir() {
		return kids[0]
	}
	return ""
}

func (t *memTree) node(p string) (*memNode, error) {
	n, ok := t.nodes[p]
	if !ok {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	}
	return n, nil
}

func (t *memTree) lstat(p string) (fs.FileMode, error) {
	n, err := t.node(p)
	if err != nil {
		return 0, err
	}
	return n.mode, nil
}

func (t *memTree) readDir(p string) ([]string, error) {
	n, err := t.node(p)
	if err != nil {
		return nil, err
	}
	names := slices.Clone(n.kids)
	slices.Sort(names)
	return names, nil
}

func (t *memTree) readLink(p string) (string, error) {
	n, err := t.node(p)
	if err != nil {
		return "", err
	}
	return n.link, nil
}

func (t *memTree) readFile(p string, _ int64) ([]byte, error) {
	n, err := t.node(p)
	if err != nil {
		return nil, err
	}
	return n.data, nil
}

// absolute: an archive's absolute symlink names the machine it is
// unpacked on, never the tree.
func (t *memTree) absolute(string) (string, bool) { return "", false }
