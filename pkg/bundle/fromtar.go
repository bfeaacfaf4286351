package bundle

import (
	"bufio"
	"bytes"

	"github.com/faasdev/faas/pkg/fault"
)

// FromTar reads a tree as Tar made it, for whoever receives one (the
// engine behind an API): every entry is checked as an archive's are, the
// tree is not re-rooted (a tree whose files all sit in one directory keeps
// it), and the bytes must be canonical, so the sha256 a client computed
// names the same tree.
func FromTar(tarBytes []byte, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	if int64(len(tarBytes)) > maxArchive(opts) {
		return nil, fault.Usagef("the function's files are %d bytes, more than a tree of at most %s unpacked can be", len(tarBytes), human(opts.MaxUnpacked))
	}
	u := newUnpacker("the function's files", opts)
	if err := u.readTar(bufio.NewReader(bytes.NewReader(tarBytes)), nil); err != nil {
		return nil, err
	}
	b := newBuilder(u.what, u.opts)
	w := &walker{src: u.tree, what: u.what, b: b}
	if err := w.walk("", ""); err != nil {
		return nil, err
	}
	out, err := b.bundle(false)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(out.Tar(), tarBytes) {
		return nil, fault.Usagef("the function's files are not a canonical tree (as `faas deploy` makes them)")
	}
	return out, nil
}
