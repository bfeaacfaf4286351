// Package callback posts an async job's result to the URL its caller gave
// (OpenFaaS' X-Callback-Url), with a few tries, and refuses addresses a
// caller should not reach through the server: loopback, private,
// link-local and other special ranges, unless the callbacks.allow setting
// lists them. Every address the host resolves to is checked, and so is
// each address dialled (a name that resolves again differently is caught).
package callback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/config"
)

// AllowKey is the setting that lets callbacks reach blocked ranges.
const AllowKey = "callbacks.allow"

func init() {
	config.Register(config.Key{Name: AllowKey, Default: "",
		Help:  "CIDRs or IPs callbacks may reach although loopback, private or link-local, comma-separated (default: none)",
		Check: func(v string) error { _, err := ParseAllow(v); return err }})
}

// MaxURL bounds a callback URL's length.
const MaxURL = 2048

// CheckURL checks a callback URL's form: http or https, a host, no user
// information. Where it points is checked when it is delivered.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxURL:
		return fmt.Errorf("callback URL is %d bytes: at most %d", len(raw), MaxURL)
	case err != nil:
		return fmt.Errorf("callback URL %q: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("callback URL %q: use http:// or https://", raw)
	case u.Hostname() == "":
		return fmt.Errorf("callback URL %q has no host", raw)
	case u.User != nil:
		return fmt.Errorf("callback URL %q: user information is not allowed", raw)
	}
	return nil
}

// ParseAllow reads the allow setting: CIDRs or single IPs, separated by
// commas.
func ParseAllow(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("invalid value %q: use CIDRs or IPs separated by commas, such as 127.0.0.1,10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// special are the ranges a callback may not reach unless allowed, beside
// what netip's predicates name (loopback, private, link-local,
// multicast, unspecified).
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64: an IPv4 address inside
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Blocked reports whether a is in a range callbacks may not reach.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RefusedError says a callback's host is an address it may not reach.
type RefusedError struct {
	Host string
	Addr netip.Addr
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused: %s is %s, a loopback, private or link-local address (allow it with `faas config set %s CIDR`)", e.Host, e.Addr, AllowKey)
}

// Request is one callback to post.
type Request struct {
	URL    string
	Body   []byte
	Header http.Header
	Allow  []netip.Prefix
	// Tries (default 3) and Backoff (default 500 ms, doubled each try).
	Tries   int
	Backoff time.Duration
	// Timeout is each try's (default 10 s).
	Timeout time.Duration
	// Resolver resolves the host (default net.DefaultResolver).
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// Result is how a delivery went.
type Result struct {
	Delivered bool
	Refused   bool
	Attempts  int
	// Err is the last try's error ("" when delivered).
	Err string
}

// Deliver posts the callback, trying again after a network error, a 429
// or a 5xx answer, with backoff; a refused address is not tried at all.
func Deliver(ctx context.Context, r Request) Result {
	if r.Tries <= 0 {
		r.Tries = 3
	}
	if r.Backoff <= 0 {
		r.Backoff = 500 * time.Millisecond
	}
	if r.Timeout <= 0 {
		r.Timeout = 10 * time.Second
	}
	if err := CheckURL(r.URL); err != nil {
		return Result{Refused: true, Err: err.Error()}
	}
	u, _ := url.Parse(r.URL)
	if err := r.checkHost(ctx, u.Hostname()); err != nil {
		return Result{Refused: true, Err: err.Error()}
	}
	client := r.client()
	defer client.CloseIdleConnections()
	var res Result
	wait := r.Backoff
	for res.Attempts < r.Tries {
		res.Attempts++
		retry, err := r.post(ctx, client)
		if err == nil {
			return Result{Delivered: true, Attempts: res.Attempts}
		}
		res.Err = err.Error()
		var refused *RefusedError
		if errors.As(err, &refused) {
			res.Refused, res.Err = true, refused.Error()
			return res
		}
		if !retry || res.Attempts == r.Tries {
			break
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(wait):
		}
		wait *= 2
	}
	return res
}

// checkHost resolves host and refuses it when any of its addresses is
// blocked and not allowed.
func (r Request) checkHost(ctx context.Context, host string) error {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		res := r.Resolver
		if res == nil {
			res = net.DefaultResolver
		}
		lctx, cancel := context.WithTimeout(ctx, r.Timeout)
		defer cancel()
		if addrs, err = res.LookupNetIP(lctx, "ip", host); err != nil {
			return fmt.Errorf("resolve %s: %v", host, err)
		}
	}
	for _, a := range addrs {
		if err := r.check(host, a); err != nil {
			return err
		}
	}
	return nil
}

func (r Request) check(host string, a netip.Addr) error {
	a = a.Unmap()
	if !Blocked(a) {
		return nil
	}
	for _, p := range r.Allow {
		if p.Contains(a) {
			return nil
		}
	}
	return &RefusedError{Host: host, Addr: a}
}

// client dials only addresses check lets through, through no proxy, and
// follows no redirect.
func (r Request) client() *http.Client {
	d := &net.Dialer{Timeout: r.Timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		return r.check(ap.Addr().String(), ap.Addr())
	}}
	return &http.Client{
		Timeout:       r.Timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConns: 1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post tries once; retry says whether another try may do better.
func (r Request) post(ctx context.Context, c *http.Client) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return false, err
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "faas-callback")
	resp, err := c.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, fmt.Errorf("the callback answered %s", resp.Status)
}
