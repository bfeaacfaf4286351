// Package client is the agent's client: what a provider links to reach
// the agents of its instances, without the server side.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// Client talks to one agent. Endpoints are "unix:/path/to.sock" or
// "http://host:port" (then with a token).
type Client struct {
	http  *http.Client
	base  string
	token string
	// unix carries the requests that are not streams to a local agent.
	unix *unixConns
}

// New returns a client for endpoint.
func New(endpoint, token string) *Client {
	c := &Client{token: token}
	if path, ok := strings.CutPrefix(endpoint, "unix:"); ok {
		d := &net.Dialer{Timeout: 5 * time.Second}
		c.http = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", path)
			},
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
		}}
		c.base = "http://agent"
		c.unix = &unixConns{path: path}
	} else {
		c.http = &http.Client{Transport: &http.Transport{DisableCompression: true}}
		c.base = strings.TrimSuffix(endpoint, "/")
	}
	return c
}

// send adds the token and sends; an agent that cannot be dialled is
// faastype.ErrGone.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: %v", faastype.ErrGone, err)
		}
		return nil, fault.Platformf("agent %s: %w", req.URL.Path, err)
	}
	return resp, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return c.doKeyed(ctx, method, path, "", in, out)
}

// doKeyed is do with an idempotency key: a request sent on a kept-alive
// connection that the agent had closed before reading anything (an agent
// that exited when idle) is then sent again on a new one by net/http.
// Nothing it was sent is run twice: the agent never saw it.
func (c *Client) doKeyed(ctx context.Context, method, path, key string, in, out any) error {
	var b []byte
	if in != nil {
		var err error
		if b, err = json.Marshal(in); err != nil {
			return err
		}
	}
	if c.unix != nil {
		code, answer, err := c.unix.roundTrip(ctx, method, path, c.token, key, b)
		if err != nil {
			return err
		}
		return decodeAnswer(path, code, strconv.Itoa(code)+" "+http.StatusText(code), bytes.NewReader(answer), out)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Idempotency-Key", key)
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(path, resp.StatusCode, resp.Status, resp.Body, out)
}

// decodeAnswer reads an agent's answer of status code into out, or the
// error it says.
func decodeAnswer(path string, code int, status string, body io.Reader, out any) error {
	if code != http.StatusOK {
		var e api.ErrorResponse
		_ = json.NewDecoder(body).Decode(&e)
		if code == http.StatusPreconditionFailed {
			return api.ErrCodeMissing
		}
		return fault.Platformf("agent %s: %s: %s", path, status, e.Error)
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fault.Platformf("agent %s: bad answer: %w", path, err)
	}
	return nil
}

// Invoke runs an invocation on the agent.
func (c *Client) Invoke(ctx context.Context, req api.InvokeRequest) (api.InvokeResponse, error) {
	var out api.InvokeResponse
	err := c.doKeyed(ctx, http.MethodPost, "/invoke", req.JobID, req, &out)
	return out, err
}

// Become hands a claimed spare agent its instance (pkg/spare).
func (c *Client) Become(ctx context.Context, req api.BecomeRequest) error {
	var out api.Health
	return c.do(ctx, http.MethodPost, "/become", req, &out)
}

// Health asks whether the agent answers.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var out api.Health
	err := c.do(ctx, http.MethodGet, "/healthz", nil, &out)
	return out, err
}

// Stats reads the agent's counters and usage.
func (c *Client) Stats(ctx context.Context) (api.Stats, error) {
	var out api.Stats
	err := c.do(ctx, http.MethodGet, "/stats", nil, &out)
	return out, err
}

// Close releases idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
	if c.unix != nil {
		c.unix.closeIdle()
	}
}

// Logs streams the agent's log lines from since (zero: from now) to fn,
// until ctx ends or the agent goes.
func (c *Client) Logs(ctx context.Context, since time.Time, fn func(api.LogLine)) error {
	url := c.base + "/logs"
	if !since.IsZero() {
		url += "?since=" + strconv.FormatInt(since.UnixMilli(), 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fault.Platformf("agent /logs: %s", resp.Status)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var l api.LogLine
		if err := dec.Decode(&l); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		fn(l)
	}
}

// Clients keeps one Client per endpoint and token for a provider's life, so
// that connections to an agent stay open between invocations. The zero
// value is ready to use.
type Clients struct{ m sync.Map } // endpoint and token → *Client

// Get returns the client of an endpoint with a token.
func (cs *Clients) Get(endpoint, token string) *Client {
	key := endpoint + "\x00" + token
	if c, ok := cs.m.Load(key); ok {
		return c.(*Client)
	}
	c, _ := cs.m.LoadOrStore(key, New(endpoint, token))
	return c.(*Client)
}
