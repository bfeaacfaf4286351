package local

import (
	"fmt"
	"io"
	"os"
)

// capped keeps the first limit bytes written to it and counts the rest, so a
// function that prints without end can never exhaust faas' memory. It never
// fails a write: the function must not block on a full pipe.
type capped struct {
	buf     []byte
	limit   int
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.limit - len(c.buf)
	if room >= len(p) {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// overflowed reports whether anything was dropped.
func (c *capped) overflowed() bool { return c.dropped > 0 }

// withMarker returns the kept bytes with a visible truncation marker.
func (c *capped) withMarker() []byte {
	if c.dropped == 0 {
		return c.buf
	}
	return append(c.buf, fmt.Sprintf("\n[faas: log truncated: %d more bytes not kept]\n", c.dropped)...)
}

// drain copies r into c until EOF and then closes r.
func drain(r *os.File, c *capped) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(c, r)
		r.Close()
	}()
	return done
}
