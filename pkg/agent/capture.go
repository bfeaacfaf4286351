package agent

import (
	"fmt"
	"io"
	"os"
)

// Capped keeps the first Limit bytes written to it and counts the rest, so a
// function that prints without end can never exhaust faas' memory. It never
// fails a write: the function must not block on a full pipe.
type Capped struct {
	buf     []byte
	limit   int
	dropped int64
}

// NewCapped returns a buffer that keeps at most limit bytes.
func NewCapped(limit int) *Capped { return &Capped{limit: limit} }

func (c *Capped) Write(p []byte) (int, error) {
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

// Overflowed reports whether anything was dropped.
func (c *Capped) Overflowed() bool { return c.dropped > 0 }

// WithMarker returns the kept bytes with a visible truncation marker.
func (c *Capped) WithMarker() []byte {
	if c.dropped == 0 {
		return c.buf
	}
	return append(c.buf, fmt.Sprintf("\n[faas: log truncated: %d more bytes not kept]\n", c.dropped)...)
}

// tee writes to a job's capped log and to a log sink.
type tee struct {
	c    *Capped
	job  string
	sink logSink
}

func (t tee) Write(p []byte) (int, error) {
	t.sink.Write(t.job, p)
	return t.c.Write(p)
}

// drain copies r into w until EOF and then closes r.
func drain(r *os.File, c io.Writer) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(c, r)
		r.Close()
	}()
	return done
}
