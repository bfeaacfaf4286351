package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// unixConns speaks the agent's HTTP/1.1 over its unix socket without
// net/http's Transport: the request is written and the answer read by the
// caller's goroutine, on a kept-alive connection taken from a pool.
// The Transport hands every request to two goroutines of its own (a
// connection's read and write loops) and back, which on a warm invoke cost
// as much CPU as the rest of the agent round trip; the bytes on the wire
// are the same.
type unixConns struct {
	path string
	mu   sync.Mutex
	idle []*agentConn
}

// maxIdle bounds the connections kept open to one agent.
const maxIdle = 64

type agentConn struct {
	c net.Conn
	r *bufio.Reader
}

func (u *unixConns) get() *agentConn {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n := len(u.idle); n > 0 {
		c := u.idle[n-1]
		u.idle = u.idle[:n-1]
		return c
	}
	return nil
}

func (u *unixConns) put(c *agentConn) {
	u.mu.Lock()
	if len(u.idle) < maxIdle {
		u.idle = append(u.idle, c)
		c = nil
	}
	u.mu.Unlock()
	if c != nil {
		c.c.Close()
	}
}

func (u *unixConns) closeIdle() {
	u.mu.Lock()
	idle := u.idle
	u.idle = nil
	u.mu.Unlock()
	for _, c := range idle {
		c.c.Close()
	}
}

func (u *unixConns) dial(ctx context.Context) (*agentConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "unix", u.path)
	if err != nil {
		// An agent that cannot be dialled is gone (exited when idle).
		return nil, fmt.Errorf("%w: %v", faastype.ErrGone, err)
	}
	return &agentConn{c: c, r: bufio.NewReaderSize(c, 8<<10)}, nil
}

// roundTrip sends one request and reads the whole answer: its status and
// body. A request sent on a kept-alive connection that the agent had
// closed before reading anything (an agent that exited when idle) is sent
// again once on a new connection: the agent never saw it.
func (u *unixConns) roundTrip(ctx context.Context, method, path, token, key string, body []byte) (int, []byte, error) {
	var head bytes.Buffer
	head.Grow(256 + len(body))
	head.WriteString(method)
	head.WriteByte(' ')
	head.WriteString(path)
	head.WriteString(" HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: ")
	head.WriteString(strconv.Itoa(len(body)))
	if token != "" {
		head.WriteString("\r\nAuthorization: Bearer ")
		head.WriteString(token)
	}
	if key != "" {
		head.WriteString("\r\nX-Idempotency-Key: ")
		head.WriteString(key)
	}
	head.WriteString("\r\n\r\n")
	head.Write(body)
	msg := head.Bytes()
	for attempt := 0; ; attempt++ {
		c, reused := u.get(), true
		if c == nil {
			var err error
			if c, err = u.dial(ctx); err != nil {
				return 0, nil, err
			}
			reused = false
		}
		code, out, keep, err := c.exchange(ctx, msg)
		if err == nil {
			if keep {
				u.put(c)
			} else {
				c.c.Close()
			}
			return code, out, nil
		}
		c.c.Close()
		if ctx.Err() != nil {
			return 0, nil, fault.Platformf("agent %s: %w", path, ctx.Err())
		}
		if !reused || attempt > 0 || !unseen(err) {
			return 0, nil, fault.Platformf("agent %s: %w", path, err)
		}
	}
}

// unseen says whether an exchange failed before the agent read anything:
// the connection was closed under the request.
func unseen(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes msg and reads the answer; keep says whether the
// connection can carry another request. The caller going (ctx) closes the
// connection, which tells the agent to stop the function.
func (c *agentConn) exchange(ctx context.Context, msg []byte) (code int, body []byte, keep bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.c.Close() })
	defer func() {
		if !stop() {
			keep = false // closed under the answer
		}
	}()
	if _, err := c.c.Write(msg); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, false, err
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // not unseen: the agent answered part
		}
		return 0, nil, false, err
	}
	return resp.StatusCode, body, !resp.Close, nil
}
