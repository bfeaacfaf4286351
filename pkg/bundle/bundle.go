// Package bundle turns what a user deploys — a file, a directory, a zip, a
// tar.gz or stdin — into a validated, canonical tree of code held in
// memory, and unpacks that tree on the side that runs it.
//
// A bundle holds regular files only: a path, the executable bit and the
// bytes. Directories exist through the files in them (an empty one is
// dropped, as git does), symlinks inside the tree become copies of what
// they point to, and anything else — a device, a fifo, a socket, a hard
// link, a path that leaves the tree — is a usage error (exit 2) naming the
// entry, found before anything is written anywhere. Its canonical form is
// a tar (Tar) whose sha256 names the version: the same tree gives the same
// sha256 whether it came from a directory, a zip or a tar.gz.
package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// Defaults of Options, after AWS Lambda's 250 MB unzipped limit.
const (
	DefaultMaxFiles    = 10000
	DefaultMaxUnpacked = 250 << 20
	DefaultMaxRatio    = 100
)

// ratioFloor is the unpacked size under which an archive entry's
// compression ratio is not checked: small files of one repeated byte are
// legitimate, a bomb has to be large to hurt.
const ratioFloor = 1 << 20

// Options bounds what a bundle may hold. A zero field takes its default.
type Options struct {
	// MaxFiles bounds the files of a bundle, and separately its
	// directories and an archive's entries.
	MaxFiles int
	// MaxUnpacked bounds the bytes of all files together, counted as they
	// are read or decompressed, never taken from an archive's headers.
	MaxUnpacked int64
	// MaxRatio bounds how many times larger than its compressed size an
	// archive entry of more than 1 MiB may unpack to (a zip bomb's is
	// about 1000).
	MaxRatio int64
}

func (o Options) withDefaults() Options {
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxUnpacked <= 0 {
		o.MaxUnpacked = DefaultMaxUnpacked
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	return o
}

// File is one file of a bundle.
type File struct {
	// Path is slash-separated and relative to the bundle's root.
	Path string
	// Mode is 0444, or 0555 for a file that was executable by its owner:
	// the only bit of a file's mode a bundle keeps.
	Mode fs.FileMode
	// Data is the file's content; callers must not modify it.
	Data []byte
}

// Bundle is a validated tree of files, sorted by path. It is immutable.
type Bundle struct {
	files  []File
	size   int64
	single bool

	once sync.Once
	tar  []byte
	sum  string
}

// Files returns the files, sorted by path.
func (b *Bundle) Files() []File { return slices.Clone(b.files) }

// Size is the number of bytes of all files together.
func (b *Bundle) Size() int64 { return b.size }

// Single reports a one-file bundle: one opened from a plain file (or a
// plain file on stdin), deployed as faas always deployed a file.
func (b *Bundle) Single() bool { return b.single }

// File returns the content of the file at path p.
func (b *Bundle) File(p string) ([]byte, bool) {
	i, ok := slices.BinarySearchFunc(b.files, p, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return nil, false
	}
	return b.files[i].Data, true
}

// Has reports whether the bundle has a file at path p, such as
// "requirements.txt" or "package.json".
func (b *Bundle) Has(p string) bool {
	_, ok := b.File(p)
	return ok
}

// Tar returns the canonical archive of the bundle: a tar of its regular
// files in path order, each with mode 0444 or 0555, mtime 0, uid and gid 0,
// no user or group names and no directory entries, so that one tree always
// gives the same bytes. Callers must not modify the slice.
func (b *Bundle) Tar() []byte {
	b.once.Do(b.canonical)
	return b.tar
}

// SHA256 is the hex sha256 of Tar: the name of the version's code.
func (b *Bundle) SHA256() string {
	b.once.Do(b.canonical)
	return b.sum
}

func (b *Bundle) canonical() {
	var buf bytes.Buffer
	buf.Grow(int(b.size) + 1024*(len(b.files)+2))
	tw := tar.NewWriter(&buf)
	for _, f := range b.files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Path,
			Mode:     int64(f.Mode),
			Size:     int64(len(f.Data)),
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatPAX,
		}
		// Writing to memory fails only on a header tar cannot encode,
		// and the paths were validated to be encodable.
		if err := tw.WriteHeader(hdr); err != nil {
			panic("bundle: canonical tar: " + err.Error())
		}
		if _, err := tw.Write(f.Data); err != nil {
			panic("bundle: canonical tar: " + err.Error())
		}
	}
	if err := tw.Close(); err != nil {
		panic("bundle: canonical tar: " + err.Error())
	}
	b.tar = buf.Bytes()
	sum := sha256.Sum256(b.tar)
	b.sum = hex.EncodeToString(sum[:])
}

// modeOf keeps the one bit of a mode a bundle keeps.
func modeOf(exec bool) fs.FileMode {
	if exec {
		return 0o555
	}
	return 0o444
}

// builder gathers a bundle's files, enforcing the limits as they come.
type builder struct {
	opts          Options
	what          string // the deploy's path, for messages
	files         []File
	seen          map[string]bool
	size          int64
	nfiles, ndirs int
}

func newBuilder(what string, opts Options) *builder {
	return &builder{opts: opts, what: what, seen: map[string]bool{}}
}

// count admits one more file or directory.
func (b *builder) count(p string, dir bool) error {
	n := &b.nfiles
	if dir {
		n = &b.ndirs
	}
	if *n++; *n > b.opts.MaxFiles {
		what := "files"
		if dir {
			what = "directories"
		}
		return fault.Usagef("%s: more than %d %s (at %q)", b.what, b.opts.MaxFiles, what, p)
	}
	return nil
}

// budget is how many more bytes the bundle may hold.
func (b *builder) budget() int64 { return b.opts.MaxUnpacked - b.size }

func (b *builder) add(p string, exec bool, data []byte) error {
	if b.seen[p] {
		return fault.Usagef("%s: %q appears twice", b.what, p)
	}
	if int64(len(data)) > b.budget() {
		return fault.Usagef("%s: at %q the files add up to more than %s", b.what, p, human(b.opts.MaxUnpacked))
	}
	b.seen[p] = true
	b.size += int64(len(data))
	b.files = append(b.files, File{Path: p, Mode: modeOf(exec), Data: data})
	return nil
}

func (b *builder) bundle(single bool) (*Bundle, error) {
	if len(b.files) == 0 {
		return nil, fault.Usagef("%s: no files to deploy", b.what)
	}
	slices.SortFunc(b.files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	return &Bundle{files: b.files, size: b.size, single: single}, nil
}

// human writes a byte count the way limits are spoken of.
func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// DependencyFiles are the files at a tree's root that say what it depends
// on: Python's requirements.txt, Node's package.json and its lock.
var DependencyFiles = []string{"requirements.txt", "package.json", "package-lock.json", "npm-shrinkwrap.json"}

// Dependencies are b's DependencyFiles that it has, by name.
func (b *Bundle) Dependencies() map[string][]byte {
	files := map[string][]byte{}
	for _, f := range DependencyFiles {
		if data, ok := b.File(f); ok {
			files[f] = data
		}
	}
	return files
}
