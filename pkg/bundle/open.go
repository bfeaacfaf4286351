package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/faasdev/faas/pkg/fault"
)

// maxIgnoreFile bounds .faasignore.
const maxIgnoreFile = 1 << 20

// Open reads what is at path: a directory (walked, honouring DefaultIgnore
// and its .faasignore), a zip (".zip"), a gzip-compressed tar (".tar.gz",
// ".tgz"), a tar (".tar"), or any other file, which is a one-file bundle
// named by its base name.
//
// An archive is taken as its author made it (no ignore rules), except that
// the __MACOSX folder of a Finder zip is dropped and an archive whose
// entries all sit in one top-level directory is rooted at that directory.
func Open(path string, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fault.Usagef("%s: no such file", path)
	case err != nil:
		return nil, fault.Usagef("%w", err)
	}
	if fi.IsDir() {
		return openDir(path, opts)
	}
	if !fi.Mode().IsRegular() {
		return nil, fault.Usagef("%s is a %s, not a file, a directory or an archive", path, kindOf(fi.Mode()))
	}
	kind := archiveKind(path)
	if kind != "" && fi.Size() > maxArchive(opts) {
		return nil, fault.Usagef("%s is %d bytes, more than an archive of at most %s unpacked can be", path, fi.Size(), human(opts.MaxUnpacked))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fault.Usagef("%w", err)
	}
	defer f.Close()
	u := newUnpacker(path, opts)
	switch kind {
	case "zip":
		err = u.readZip(f, fi.Size())
	case "tar.gz":
		err = u.readTarGz(bufio.NewReader(f))
	case "tar":
		err = u.readTar(bufio.NewReader(f), nil)
	default:
		return single(path, filepath.Base(path), fi.Mode()&0o100 != 0, f, opts)
	}
	if err != nil {
		return nil, err
	}
	return u.bundle()
}

// Read reads a deploy from r, as `faas deploy -` does: a zip, a gzip
// stream (taken as a tar.gz) or a tar, told by their first bytes, or else a
// single file called name.
func Read(r io.Reader, name string, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fault.Usagef("reading stdin: %w", err)
	}
	u := newUnpacker("stdin", opts)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		// A zip's directory is at its end: it has to be read whole.
		data, err := io.ReadAll(io.LimitReader(br, maxArchive(opts)+1))
		if err != nil {
			return nil, fault.Usagef("reading stdin: %w", err)
		}
		if int64(len(data)) > maxArchive(opts) {
			return nil, fault.Usagef("stdin: the zip is more than %d bytes, more than an archive of at most %s unpacked can be", maxArchive(opts), human(opts.MaxUnpacked))
		}
		err = u.readZip(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, err
		}
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		if err := u.readTarGz(br); err != nil {
			return nil, err
		}
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		if err := u.readTar(br, nil); err != nil {
			return nil, err
		}
	default:
		if name == "" {
			return nil, fault.Usagef("a file on stdin needs a name")
		}
		return single("stdin", name, false, br, opts)
	}
	return u.bundle()
}

// maxArchive bounds an archive's own size: a little over what it may
// unpack to, for the headers of its entries.
func maxArchive(o Options) int64 { return o.MaxUnpacked + o.MaxUnpacked/16 + 1<<20 }

func archiveKind(path string) string {
	switch p := strings.ToLower(path); {
	case strings.HasSuffix(p, ".zip"):
		return "zip"
	case strings.HasSuffix(p, ".tar.gz"), strings.HasSuffix(p, ".tgz"):
		return "tar.gz"
	case strings.HasSuffix(p, ".tar"):
		return "tar"
	}
	return ""
}

// bundle walks the archive read into memory.
func (u *unpacker) bundle() (*Bundle, error) {
	b := newBuilder(u.what, u.opts)
	w := &walker{src: u.tree, what: u.what, b: b}
	if err := w.walk(u.tree.top(), ""); err != nil {
		return nil, err
	}
	return b.bundle(false)
}

// single reads a one-file bundle.
func single(what, name string, exec bool, r io.Reader, opts Options) (*Bundle, error) {
	if err := checkPath(name); err != nil || strings.Contains(name, "/") {
		return nil, fault.Usagef("%s: %q cannot name a file in a bundle", what, name)
	}
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxUnpacked+1))
	if err != nil {
		return nil, fault.Usagef("%s: %w", what, err)
	}
	b := newBuilder(what, opts)
	if err := b.add(name, exec, data); err != nil {
		return nil, err
	}
	return b.bundle(true)
}

// openDir walks a directory.
func openDir(dir string, opts Options) (*Bundle, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fault.Usagef("%w", err)
	}
	defer root.Close()
	src := &dirSource{root: root}
	if abs, err := filepath.Abs(dir); err == nil {
		src.abs = append(src.abs, filepath.ToSlash(abs))
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			src.abs = append(src.abs, filepath.ToSlash(real))
		}
	}
	defaults, err := ParseIgnore(strings.Join(DefaultIgnore, "\n"))
	if err != nil {
		panic("bundle: DefaultIgnore: " + err.Error())
	}
	w := &walker{src: src, what: dir, b: newBuilder(dir, opts), ignore: []*Ignore{defaults}}
	switch text, err := src.readFile(IgnoreFile, maxIgnoreFile); {
	case err == nil:
		if len(text) > maxIgnoreFile {
			return nil, fault.Usagef("%s: %s is over %s", dir, IgnoreFile, human(maxIgnoreFile))
		}
		ig, err := ParseIgnore(string(text))
		if err != nil {
			return nil, fault.Usagef("%s: %w", filepath.Join(dir, IgnoreFile), err)
		}
		w.ignore = append(w.ignore, ig)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fault.Usagef("%s: %w", dir, err)
	}
	if err := w.walk("", ""); err != nil {
		return nil, err
	}
	return w.b.bundle(false)
}

// dirSource is a directory on disk, read through an os.Root so that no
// path, whatever happens to the tree meanwhile, reads outside it.
type dirSource struct {
	root *os.Root
	abs  []string // the root's absolute paths, for absolute symlinks
}

func dot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

func (d *dirSource) lstat(p string) (fs.FileMode, error) {
	fi, err := d.root.Lstat(dot(p))
	if err != nil {
		return 0, err
	}
	return fi.Mode(), nil
}

func (d *dirSource) readDir(p string) ([]string, error) {
	f, err := d.root.Open(dot(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

func (d *dirSource) readLink(p string) (string, error) { return d.root.Readlink(p) }

// readFile reads at most limit+1 bytes of a regular file. O_NONBLOCK keeps
// a file swapped for a fifo since it was looked at from blocking the open.
func (d *dirSource) readFile(p string, limit int64) ([]byte, error) {
	f, err := d.root.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fault.Usagef("%s is a %s, not a file", p, kindOf(fi.Mode()))
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(fi.Size(), limit)+512))
	_, err = buf.ReadFrom(io.LimitReader(f, limit+1))
	return buf.Bytes(), err
}

func (d *dirSource) absolute(target string) (string, bool) {
	target = filepath.ToSlash(filepath.Clean(target))
	for _, abs := range d.abs {
		if target == abs {
			return "", true
		}
		if rel, ok := strings.CutPrefix(target, abs+"/"); ok {
			return rel, true
		}
	}
	return "", false
}
