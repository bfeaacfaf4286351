package vmimage

import (
	"fmt"
	"io"
	"strings"
)

// CPIO writes a "newc" archive, the format the kernel unpacks as an
// initramfs; archives written one after the other in a file are unpacked
// in turn, so an instance's initrd is the image's modules, then the
// agent, then the instance's own settings, each written apart.
type CPIO struct {
	w   io.Writer
	n   int64
	ino int
	err error
}

// NewCPIO writes an archive to w.
func NewCPIO(w io.Writer) *CPIO { return &CPIO{w: w, ino: 1} }

func (c *CPIO) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *CPIO) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *CPIO) header(name string, mode uint32, size int64) {
	c.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	c.write(fmt.Appendf(nil, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name)+1, 0))
	c.write(append([]byte(name), 0))
	c.pad()
}

// Dir adds a directory (and nothing below it).
func (c *CPIO) Dir(name string, perm uint32) {
	c.header(strings.TrimPrefix(name, "/"), 0o040000|perm, 0)
}

// File adds a regular file of size bytes read from r.
func (c *CPIO) File(name string, perm uint32, size int64, r io.Reader) {
	c.header(strings.TrimPrefix(name, "/"), 0o100000|perm, size)
	if c.err != nil {
		return
	}
	n, err := io.CopyN(c.w, r, size)
	c.n += n
	if err != nil {
		c.err = fmt.Errorf("cpio %s: %w", name, err)
		return
	}
	c.pad()
}

// Close writes the trailer and says whether anything failed.
func (c *CPIO) Close() error {
	c.header("TRAILER!!!", 0, 0)
	return c.err
}
