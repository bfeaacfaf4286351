package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/faasdev/faas/pkg/fault"
)

// Unpack extracts a canonical tar, as Tar makes it, into dir with the
// default Options. See UnpackWith.
func Unpack(tarBytes []byte, dir string) error {
	return UnpackWith(tarBytes, dir, Options{})
}

// UnpackWith extracts a canonical tar into dir, which must not exist (an
// error wrapping fs.ErrExist says it does: another unpack of the same code
// won). The bytes are not trusted: every entry is checked as an archive's
// are (regular files only, clean relative names, no duplicates, within
// opts' limits) and a hostile one is a usage error naming it. Files are
// written read-only (0444, or 0555 when executable) in read-only
// directories, into a temporary directory beside dir that is renamed to
// dir only when all is written: a failure leaves nothing behind.
func UnpackWith(tarBytes []byte, dir string, opts Options) (err error) {
	opts = opts.withDefaults()
	if _, err := os.Lstat(dir); err == nil {
		return &fs.PathError{Op: "unpack", Path: dir, Err: fs.ErrExist}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = RemoveTree(tmp)
		}
	}()
	dirs, err := extract(tarBytes, tmp, dir, opts)
	if err != nil {
		return err
	}
	// Deepest first: a directory made read-only takes no more entries.
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		if err := os.Chmod(filepath.Join(tmp, d), 0o555); err != nil {
			return err
		}
	}
	if err := renameNoReplace(tmp, dir); err != nil {
		return err
	}
	return os.Chmod(dir, 0o555)
}

// extract writes the tar's files below tmp and returns the directories it
// made; name is the final directory, for messages.
func extract(tarBytes []byte, tmp, name string, opts Options) ([]string, error) {
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var (
		tr       = tar.NewReader(bytes.NewReader(tarBytes))
		files    = map[string]bool{}
		dirs     = map[string]bool{}
		unpacked int64
		entries  int
	)
	bad := func(entry, format string, args ...any) error {
		return fault.Usagef("unpacking %s: entry %q: %s", name, entry, fmt.Sprintf(format, args...))
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return nil, fault.Usagef("unpacking %s: a damaged tar: %w", name, err)
		}
		if entries++; entries > opts.MaxFiles {
			return nil, bad(hdr.Name, "more than %d entries", opts.MaxFiles)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, bad(hdr.Name, "of tar type %q: a bundle holds regular files only", hdr.Typeflag)
		}
		p := hdr.Name
		if err := checkPath(p); err != nil {
			return nil, bad(p, "%v", err)
		}
		if files[p] {
			return nil, bad(p, "appears twice")
		}
		if dirs[p] {
			return nil, bad(p, "is a file where entries before it made a directory")
		}
		parent := path.Dir(p)
		for d := parent; d != "."; d = path.Dir(d) {
			if files[d] {
				return nil, bad(p, "is inside %q, which is a file", d)
			}
			dirs[d] = true
		}
		files[p] = true
		if hdr.Size > opts.MaxUnpacked-unpacked {
			return nil, bad(p, "unpacks to more than %s", human(opts.MaxUnpacked))
		}
		if parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return nil, err
			}
		}
		n, err := writeFile(root, p, modeOf(hdr.Mode&0o100 != 0), io.LimitReader(tr, opts.MaxUnpacked-unpacked+1))
		if err != nil {
			return nil, err
		}
		if unpacked += n; unpacked > opts.MaxUnpacked {
			return nil, bad(p, "unpacks to more than %s", human(opts.MaxUnpacked))
		}
	}
	if entries == 0 {
		return nil, fault.Usagef("unpacking %s: the tar holds no files", name)
	}
	return slices.Collect(maps.Keys(dirs)), nil
}

// writeFile creates p (which must not exist) with mode once written.
func writeFile(root *os.Root, p string, mode fs.FileMode, r io.Reader) (int64, error) {
	f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// renameNoReplace moves a directory into place unless something is
// already there: two agents unpacking the same code race, one wins.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &fs.PathError{Op: "unpack", Path: to, Err: fs.ErrExist}
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		// A filesystem without RENAME_NOREPLACE: rename(2) would replace
		// an empty directory, so look first.
		if _, err := os.Lstat(to); err == nil {
			return &fs.PathError{Op: "unpack", Path: to, Err: fs.ErrExist}
		}
		return os.Rename(from, to)
	}
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
}

// RemoveTree removes a tree that may hold read-only directories (as
// Unpack and dependency builds leave them): each is made writable first.
func RemoveTree(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
