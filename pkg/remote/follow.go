package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// FollowLogs calls fn for every line the function's jobs print from since
// on, as the server streams them (GET /v1/functions/NAME/logs?follow=true,
// NDJSON), until ctx ends; as the engine's FollowLogs does locally.
func (c *Client) FollowLogs(ctx context.Context, name string, since time.Time, fn func(faastype.LogLine)) error {
	q := url.Values{"follow": {"true"}, "since": {since.UTC().Format(time.RFC3339Nano)}}
	lw := &lineWriter{fn: fn}
	_, err := c.do(ctx, http.MethodGet, "/v1/functions/"+esc(name)+"/logs", q, nil, "", lw)
	if ctx.Err() != nil {
		return nil
	}
	if err == nil && lw.err == nil {
		return fault.WithHint(fault.Platformf("the faas server stopped following the logs"), "it may have been stopped; run the command again")
	}
	if lw.err != nil {
		return lw.err
	}
	return err
}

// lineWriter decodes an NDJSON stream as it is written, a line at a time.
type lineWriter struct {
	buf []byte
	fn  func(faastype.LogLine)
	err error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := w.buf[:i]
		if len(bytes.TrimSpace(line)) > 0 {
			var l faastype.LogLine
			if err := json.Unmarshal(line, &l); err != nil {
				w.err = fault.Platformf("read the faas server's logs: %v", err)
				return 0, w.err
			}
			w.fn(l)
		}
		w.buf = w.buf[i+1:]
	}
}
