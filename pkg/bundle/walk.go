package bundle

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
)

// maxHops bounds the symlinks followed to resolve one path, as Linux's
// ELOOP does.
const maxHops = 40

// source is a tree to walk: a directory on disk or an archive read into
// memory. Paths are slash-separated and relative to its root ("" is the
// root); none of the methods follows a symlink.
type source interface {
	lstat(p string) (fs.FileMode, error)
	readDir(p string) ([]string, error)
	readLink(p string) (string, error)
	readFile(p string, limit int64) ([]byte, error)
	// absolute maps an absolute symlink target to a path in the tree, or
	// reports that it is not in it.
	absolute(target string) (string, bool)
}

// walker turns a source into the files of a bundle. Symlinks are
// followed: one to a file becomes a copy of that file, one to a directory
// a copy of its files under the link's name; one that leaves the tree,
// dangles or loops is an error naming it. Paths are checked with ignore
// (nil for an archive, which is taken as its author made it).
type walker struct {
	src    source
	what   string // the deploy's path, for messages
	ignore []*Ignore
	b      *builder
	stack  []string // real directories being walked, to catch loops
}

func (w *walker) walk(real, logical string) error {
	if w.inStack(real) {
		return fault.Usagef("%s: %q: a symlink loops back to %s", w.what, logical, orRoot(real))
	}
	w.stack = append(w.stack, real)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()
	names, err := w.src.readDir(real)
	if err != nil {
		return fault.Usagef("%s: %w", w.what, err)
	}
	for _, name := range names {
		if err := w.entry(join(real, name), join(logical, name)); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) entry(real, logical string) error {
	mode, err := w.src.lstat(real)
	if err != nil {
		return fault.Usagef("%s: %w", w.what, err)
	}
	// Ignored first: a name the bundle could not hold is no matter in a
	// directory it leaves out.
	if w.ignored(logical, mode.IsDir()) {
		return nil
	}
	if err := checkPath(logical); err != nil {
		return fault.Usagef("%s: %q: %w", w.what, logical, err)
	}
	if mode&fs.ModeSymlink != 0 {
		target, err := w.resolve(real)
		if err != nil {
			return err
		}
		if mode, err = w.src.lstat(target); err != nil {
			return fault.Usagef("%s: %w", w.what, err)
		}
		if mode.IsDir() && w.ignored(logical, true) {
			return nil
		}
		real = target
	}
	if err := w.b.count(logical, mode.IsDir()); err != nil {
		return err
	}
	switch {
	case mode.IsDir():
		return w.walk(real, logical)
	case mode.IsRegular():
		data, err := w.src.readFile(real, w.b.budget())
		if err != nil {
			return fault.Usagef("%s: %w", w.what, err)
		}
		return w.b.add(logical, mode&0o100 != 0, data)
	default:
		return fault.Usagef("%s: %q is a %s, not a file or a directory", w.what, logical, kindOf(mode))
	}
}

func (w *walker) ignored(p string, dir bool) bool {
	for _, ig := range w.ignore {
		if ig.Match(p, dir) {
			return true
		}
	}
	return false
}

func (w *walker) inStack(real string) bool {
	for _, s := range w.stack {
		if s == real {
			return true
		}
	}
	return false
}

// resolve follows the symlink at real (whose directory has no symlinks)
// to the path it names in the tree. Errors name real, the entry itself,
// rather than any path the walk reached it by.
func (w *walker) resolve(real string) (string, error) {
	link, err := w.src.readLink(real)
	if err != nil {
		return "", fault.Usagef("%s: %w", w.what, err)
	}
	fail := func(why string) error {
		return fault.Usagef("%s: symlink %q -> %q %s", w.what, real, link, why)
	}
	done := splitPath(path.Dir(real))
	todo, err := w.target(link, &done)
	if err != nil {
		return "", fail("leaves the tree")
	}
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", fail("leaves the tree")
			}
			done = done[:len(done)-1]
			continue
		}
		next := join(strings.Join(done, "/"), c)
		mode, err := w.src.lstat(next)
		if err != nil {
			return "", fail("points to nothing in the tree")
		}
		if mode&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if hops++; hops > maxHops {
			return "", fail("loops")
		}
		more, err := w.src.readLink(next)
		if err != nil {
			return "", fault.Usagef("%s: %w", w.what, err)
		}
		rest, err := w.target(more, &done)
		if err != nil {
			return "", fail("leaves the tree through " + more)
		}
		todo = append(rest, todo...)
	}
	return strings.Join(done, "/"), nil
}

// target splits a link's target into the components still to resolve;
// an absolute one starts again from the root, if it is in the tree.
func (w *walker) target(link string, done *[]string) ([]string, error) {
	if !path.IsAbs(link) {
		return strings.Split(link, "/"), nil
	}
	rel, ok := w.src.absolute(link)
	if !ok {
		return nil, errors.New("absolute")
	}
	*done = nil
	return splitPath(rel), nil
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

func join(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

func orRoot(p string) string {
	if p == "" {
		return "the root"
	}
	return p
}

// kindOf names a file type that a bundle cannot hold.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "special file"
}
