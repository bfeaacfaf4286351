// Package remote is the command line's side of `faas serve`: a client that
// does what the local engine does, over the HTTP API, and returns the same
// records, so that every command prints the same either way.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

// Client talks to one server with one token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the server at addr (http://host:port, or
// host:port) with token.
func New(addr, token string) (*Client, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fault.WithHint(fault.Usagef("FAAS_SERVER=%q is not a server address", addr), "set it to http://HOST:PORT")
	}
	if token == "" {
		return nil, fault.WithHint(fault.Usagef("FAAS_SERVER is set but FAAS_TOKEN is not"),
			"ask the server's admin for a token (`faas serve token create NAME`) and set FAAS_TOKEN")
	}
	return &Client{base: u, token: token, http: &http.Client{}}, nil
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil);
// an error answer becomes an error of its kind.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, ctype string, out any) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fault.Platformf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fault.WithHint(fault.Platformf("cannot reach the faas server at %s: %v", c.base.Host, unwrapURL(err)),
			"check FAAS_SERVER and that `faas serve` runs there")
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e api.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			return resp, fault.Platformf("the faas server answered %s", resp.Status)
		}
		return resp, e.Err()
	}
	if out != nil {
		if w, ok := out.(io.Writer); ok {
			_, err = io.Copy(w, resp.Body)
		} else {
			err = json.NewDecoder(resp.Body).Decode(out)
		}
		if err != nil {
			return resp, fault.Platformf("read the faas server's answer to %s %s: %w", method, path, err)
		}
	}
	return resp, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func esc(s string) string { return url.PathEscape(s) }

// Deploy uploads a file as multipart: no base64 on the way.
func (c *Client) Deploy(ctx context.Context, r engine.DeployRequest) (engine.DeployResult, error) {
	meta, _ := json.Marshal(api.DeployRequest{Name: r.Name, Filename: r.Filename, Runtime: string(r.Runtime),
		Mode: string(r.Mode), Provider: r.Provider, Config: r.Config,
		Keep: r.Keep, Set: r.Set, EnvUnset: r.EnvUnset, EnvReplace: r.EnvReplace, SecretUnset: r.SecretUnset, Tree: r.Tree})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("request", string(meta))
	fw, _ := mw.CreateFormFile("file", r.Filename)
	_, _ = fw.Write(r.Code)
	_ = mw.Close()
	var d api.Deployed
	if _, err := c.do(ctx, http.MethodPost, "/v1/functions", nil, &body, mw.FormDataContentType(), &d); err != nil {
		return engine.DeployResult{}, err
	}
	// The server built it: its output, once the build is done.
	if r.Progress != nil && d.BuildLog != "" {
		_, _ = io.WriteString(r.Progress, d.BuildLog)
	}
	return d.Engine(), nil
}

// Function reads one function.
func (c *Client) Function(ctx context.Context, name string) (store.Function, error) {
	var f api.Function
	_, err := c.do(ctx, http.MethodGet, "/v1/functions/"+esc(name), nil, nil, "", &f)
	return f.Store(), err
}

// Functions lists the owner's functions.
func (c *Client) Functions(ctx context.Context) ([]store.Function, error) {
	var fs []api.Function
	if _, err := c.do(ctx, http.MethodGet, "/v1/functions", nil, nil, "", &fs); err != nil {
		return nil, err
	}
	out := make([]store.Function, len(fs))
	for i, f := range fs {
		out[i] = f.Store()
	}
	return out, nil
}

// Remove removes a function.
func (c *Client) Remove(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/functions/"+esc(name), nil, nil, "", nil)
	return err
}

// Rollback makes an earlier version current (to == 0: the one before).
func (c *Client) Rollback(ctx context.Context, name string, to int) (from, now int, err error) {
	var r api.RolledBack
	q := url.Values{}
	if to != 0 {
		q.Set("to", strconv.Itoa(to))
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/functions/"+esc(name)+"/rollback", q, nil, "", &r); err != nil {
		return 0, 0, err
	}
	return r.From, r.Version, nil
}

// Invoke runs a function and returns the whole job.
func (c *Client) Invoke(ctx context.Context, r engine.InvokeRequest) (store.Job, error) {
	q := url.Values{"output": {"job"}}
	if r.Timeout > 0 {
		q.Set("timeout", r.Timeout.String())
	}
	var j api.Job
	resp, err := c.do(ctx, http.MethodPost, "/v1/functions/"+esc(r.Name)+"/invoke", q, bytes.NewReader(r.Payload), "application/octet-stream", &j)
	if err != nil {
		// A platform failure of a recorded job still names the job.
		if resp != nil && resp.Header.Get("X-Faas-Job-Id") != "" {
			cause := faastype.Cause(resp.Header.Get("X-Faas-Cause"))
			status := store.StatusFailed
			if cause == faastype.CauseLost { // a worker lost mid-call
				status = store.StatusLost
			}
			return store.Job{ID: resp.Header.Get("X-Faas-Job-Id"), Function: r.Name, Status: status, Cause: cause}, err
		}
		return store.Job{}, err
	}
	return j.Store(), nil
}

// Submit queues an async invocation.
func (c *Client) Submit(ctx context.Context, r engine.SubmitRequest) (store.Job, error) {
	q := url.Values{"async": {"true"}}
	if r.Timeout > 0 {
		q.Set("timeout", r.Timeout.String())
	}
	if r.Retries != 0 {
		q.Set("retries", strconv.Itoa(r.Retries))
	}
	if r.Callback != "" {
		q.Set("callback", r.Callback)
	}
	var qd api.Queued
	if _, err := c.do(ctx, http.MethodPost, "/v1/functions/"+esc(r.Name)+"/invoke", q, bytes.NewReader(r.Payload), "application/octet-stream", &qd); err != nil {
		return store.Job{}, err
	}
	return store.Job{ID: qd.JobID, Function: r.Name, Status: qd.Status}, nil
}

// Jobs lists the owner's jobs.
func (c *Client) Jobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	q := url.Values{"limit": {strconv.Itoa(f.Limit)}}
	if f.Function != "" {
		q.Set("function", f.Function)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Trigger != "" {
		q.Set("trigger", f.Trigger)
	}
	var js []api.Job
	if _, err := c.do(ctx, http.MethodGet, "/v1/jobs", q, nil, "", &js); err != nil {
		return nil, err
	}
	out := make([]store.Job, len(js))
	for i, j := range js {
		out[i] = j.Store()
	}
	return out, nil
}

// Job reads one job whole.
func (c *Client) Job(ctx context.Context, id string) (store.Job, error) {
	var j api.Job
	_, err := c.do(ctx, http.MethodGet, "/v1/jobs/"+esc(id), nil, nil, "", &j)
	return j.Store(), err
}

// WaitJob long-polls until the job ends or timeout passes (0: no limit).
func (c *Client) WaitJob(ctx context.Context, id string, timeout time.Duration) (store.Job, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		wait := engineMaxWait
		if !deadline.IsZero() {
			wait = min(wait, time.Until(deadline))
		}
		if wait <= 0 {
			return c.Job(ctx, id)
		}
		var j api.Job
		if _, err := c.do(ctx, http.MethodGet, "/v1/jobs/"+esc(id), url.Values{"wait": {wait.String()}}, nil, "", &j); err != nil {
			return store.Job{}, err
		}
		if job := j.Store(); job.Ended() || (!deadline.IsZero() && time.Now().After(deadline)) {
			return job, nil
		}
	}
}

// engineMaxWait is how long one long poll asks for.
const engineMaxWait = 30 * time.Second

// Logs reads stored log lines.
func (c *Client) Logs(ctx context.Context, r engine.LogsRequest) ([]faastype.LogLine, error) {
	q := url.Values{}
	if r.Tail > 0 {
		q.Set("tail", strconv.Itoa(r.Tail))
	}
	if !r.Since.IsZero() {
		q.Set("since", r.Since.UTC().Format(time.RFC3339Nano))
	}
	path := "/v1/jobs/" + esc(r.JobID) + "/logs"
	if r.Function != "" {
		path = "/v1/functions/" + esc(r.Function) + "/logs"
		if r.JobID != "" {
			q.Set("job", r.JobID)
		}
	}
	var buf bytes.Buffer
	if _, err := c.do(ctx, http.MethodGet, path, q, nil, "", &buf); err != nil {
		return nil, err
	}
	var out []faastype.LogLine
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		var l faastype.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fault.Platformf("read the faas server's logs: %v", err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// Bill reads the owner's bill.
func (c *Client) Bill(ctx context.Context, r engine.BillRequest) (engine.Bill, error) {
	q := url.Values{}
	if r.Month != "" {
		q.Set("month", r.Month)
	}
	if r.Function != "" {
		q.Set("function", r.Function)
	}
	var b api.Bill
	if _, err := c.do(ctx, http.MethodGet, "/v1/bill", q, nil, "", &b); err != nil {
		return engine.Bill{}, err
	}
	return b.Engine(), nil
}

// Top reads what `faas top` shows of the owner's functions. CPU is the
// instances' average since they started (the server keeps no previous
// snapshot per caller).
func (c *Client) Top(ctx context.Context, _ *engine.Snapshot) (engine.Snapshot, error) {
	var t api.Top
	if _, err := c.do(ctx, http.MethodGet, "/v1/top", nil, nil, "", &t); err != nil {
		return engine.Snapshot{}, err
	}
	return t.Engine(), nil
}

// String names the server, for messages.
func (c *Client) String() string { return fmt.Sprintf("faas server %s", c.base.Host) }

// Versions lists a function's versions, newest first.
func (c *Client) Versions(ctx context.Context, name string) ([]store.Version, error) {
	var vs []api.Version
	if _, err := c.do(ctx, http.MethodGet, "/v1/functions/"+esc(name)+"/versions", nil, nil, "", &vs); err != nil {
		return nil, err
	}
	out := make([]store.Version, len(vs))
	for i, v := range vs {
		out[i] = v.Store(name)
	}
	return out, nil
}

// VersionCode reads a version's code (0: the current version).
func (c *Client) VersionCode(ctx context.Context, name string, version int) (store.Version, error) {
	var buf bytes.Buffer
	resp, err := c.do(ctx, http.MethodGet, "/v1/functions/"+esc(name)+"/versions/"+strconv.Itoa(version)+"/code", nil, nil, "", &buf)
	if err != nil {
		return store.Version{}, err
	}
	n, _ := strconv.Atoi(resp.Header.Get("X-Faas-Version"))
	return store.Version{Function: name, Version: n, Filename: resp.Header.Get("X-Faas-Filename"),
		SHA256: resp.Header.Get("X-Faas-Sha256"), Code: buf.Bytes(), Tree: resp.Header.Get("X-Faas-Tree") == "true"}, nil
}

// BuildLog reads the current version's build log.
func (c *Client) BuildLog(ctx context.Context, name string) ([]byte, error) {
	var buf bytes.Buffer
	_, err := c.do(ctx, http.MethodGet, "/v1/functions/"+esc(name)+"/build-log", nil, nil, "", &buf)
	return buf.Bytes(), err
}
