package callback

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return f[host], nil
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	res := Deliver(context.Background(), Request{URL: srv.URL, Body: []byte("x")})
	if !res.Refused || res.Attempts != 0 || !strings.Contains(res.Err, "127.0.0.1") || hits.Load() != 0 {
		t.Fatalf("loopback without allow: %+v, %d hits", res, hits.Load())
	}
	allow, err := ParseAllow("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	res = Deliver(context.Background(), Request{URL: srv.URL, Body: []byte("x"), Allow: allow})
	if !res.Delivered || res.Attempts != 1 || hits.Load() != 1 {
		t.Fatalf("allowed: %+v, %d hits", res, hits.Load())
	}
}

func TestEveryResolvedAddressIsChecked(t *testing.T) {
	r := fakeResolver{"mixed.example": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.1.2.3")},
		"meta.example":   {netip.MustParseAddr("169.254.169.254")},
		"mapped.example": {netip.MustParseAddr("::ffff:127.0.0.1")}}
	for _, host := range []string{"mixed.example", "meta.example", "mapped.example"} {
		res := Deliver(context.Background(), Request{URL: "http://" + host + "/cb", Resolver: r})
		if !res.Refused || res.Attempts != 0 {
			t.Errorf("%s: %+v", host, res)
		}
	}
	for _, u := range []string{"http://[::1]:9/", "http://0.0.0.0:9/", "http://100.64.0.1/", "http://[fd00::1]/"} {
		if res := Deliver(context.Background(), Request{URL: u}); !res.Refused {
			t.Errorf("%s: %+v", u, res)
		}
	}
}

func TestRetriedWithBackoff(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	allow, _ := ParseAllow("127.0.0.0/8")
	res := Deliver(context.Background(), Request{URL: srv.URL, Allow: allow, Backoff: time.Millisecond})
	if !res.Delivered || res.Attempts != 3 {
		t.Fatalf("%+v", res)
	}
	// A 4xx is not tried again.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }))
	defer bad.Close()
	res = Deliver(context.Background(), Request{URL: bad.URL, Allow: allow, Backoff: time.Millisecond})
	if res.Delivered || res.Refused || res.Attempts != 1 || !strings.Contains(res.Err, "404") {
		t.Fatalf("404: %+v", res)
	}
}

func TestCheckURLAndAllow(t *testing.T) {
	for _, u := range []string{"ftp://x/", "http://", "http://u:p@host/", "not a url\x7f", "/relative"} {
		if CheckURL(u) == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if err := CheckURL("https://hooks.example.com/done?x=1"); err != nil {
		t.Error(err)
	}
	if _, err := ParseAllow("10.0.0.0/8, 127.0.0.1,::1"); err != nil {
		t.Error(err)
	}
	if _, err := ParseAllow("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
}
