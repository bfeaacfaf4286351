package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWriteFunctionResponse(t *testing.T) {
	cases := []struct {
		name, result string
		code         int
		ctype, body  string
		header       [2]string
		err          string
	}{
		{name: "object", result: `{"a": 1}`, code: 200, ctype: "application/json", body: `{"a": 1}`},
		{name: "array", result: `[1]`, code: 200, ctype: "application/json", body: `[1]`},
		{name: "json string", result: `"hi\n"`, code: 200, ctype: "text/plain; charset=utf-8", body: "hi\n"},
		{name: "raw text", result: `plain`, code: 200, ctype: "text/plain; charset=utf-8", body: "plain"},
		{name: "bytes", result: "\xff\x00", code: 200, ctype: "application/octet-stream", body: "\xff\x00"},
		{name: "empty", result: ``, code: 200, ctype: "text/plain; charset=utf-8", body: ""},
		{name: "shaped", result: `{"statusCode": 418, "headers": {"X-A": "b", "X-N": 3, "X-Faas-Status": "forged", "Bad Name": "x"}, "body": "<p>"}`,
			code: 418, ctype: "text/plain; charset=utf-8", body: "<p>", header: [2]string{"X-N", "3"}},
		{name: "shaped base64", result: `{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true, "headers": {"content-type": "x/y"}}`,
			code: 200, ctype: "x/y", body: "hi"},
		{name: "shaped json body", result: `{"statusCode": 200, "body": "{\"k\":1}"}`, code: 200, ctype: "application/json", body: `{"k":1}`},
		{name: "shaped no body", result: `{"statusCode": 204}`, code: 204},
		{name: "bad base64", result: `{"statusCode": 200, "body": "!!", "isBase64Encoded": true}`, err: "not base64"},
		{name: "bad status", result: `{"statusCode": 99}`, err: "statusCode 99"},
		{name: "status not a number", result: `{"statusCode": "200"}`, err: "cannot unmarshal"},
		{name: "body not a string", result: `{"statusCode": 200, "body": {"a": 1}}`, err: "body is not a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err := writeFunctionResponse(w, []byte(c.result))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || w.Body.Len() != 0 || len(w.Header()) != 0 {
					t.Fatalf("err %v (body %q, header %v), want %q and nothing written", err, w.Body, w.Header(), c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Code != c.code || w.Body.String() != c.body || (c.ctype != "" && w.Header().Get("Content-Type") != c.ctype) {
				t.Fatalf("got %d %q %q, want %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body, c.code, c.ctype, c.body)
			}
			if c.header[0] != "" && w.Header().Get(c.header[0]) != c.header[1] {
				t.Errorf("header %s = %q, want %q", c.header[0], w.Header().Get(c.header[0]), c.header[1])
			}
			if w.Header().Get("X-Faas-Status") != "" {
				t.Errorf("a function set X-Faas-Status")
			}
		})
	}
}

func TestNewHTTPEvent(t *testing.T) {
	r := httptest.NewRequest("POST", "http://h:1/fn/f/a%20b/c?x=1&x=2&y", strings.NewReader(""))
	r.Header.Set("Authorization", "Bearer faas_x")
	r.Header.Set("Content-Type", "image/png")
	now := time.UnixMilli(1700000000123)
	ev := newHTTPEvent(r, "f", "alice", "job1", []byte("png"), true, now)
	if ev.RawPath != "/a%20b/c" || ev.RequestContext.HTTP.Path != "/a b/c" || ev.RawQueryString != "x=1&x=2&y" {
		t.Errorf("paths %q %q %q", ev.RawPath, ev.RequestContext.HTTP.Path, ev.RawQueryString)
	}
	if ev.QueryStringParameters["x"] != "1,2" || ev.QueryStringParameters["y"] != "" {
		t.Errorf("query %v", ev.QueryStringParameters)
	}
	if _, ok := ev.Headers["authorization"]; ok {
		t.Errorf("faas' token reached the function: %v", ev.Headers)
	}
	if !ev.IsBase64Encoded || ev.Body != "cG5n" || ev.Headers["host"] != "h:1" {
		t.Errorf("body %q %v, headers %v", ev.Body, ev.IsBase64Encoded, ev.Headers)
	}
	if ev.RequestContext.RequestID != "job1" || ev.RequestContext.TimeEpoch != 1700000000123 || ev.RequestContext.AccountID != "alice" {
		t.Errorf("context %+v", ev.RequestContext)
	}
	root := newHTTPEvent(httptest.NewRequest("GET", "/fn/f", nil), "f", "", "j", nil, false, now)
	if root.RawPath != "/" || root.RequestContext.HTTP.Path != "/" || root.Body != "" || root.QueryStringParameters != nil {
		t.Errorf("root %+v", root)
	}
}

func TestIsText(t *testing.T) {
	for ct, want := range map[string]bool{"": true, "text/html; charset=utf-8": true, "application/json": true,
		"application/vnd.api+json": true, "application/x-www-form-urlencoded": true, "image/png": false,
		"application/octet-stream": false, "bad/;;": false} {
		if got := isText(ct); got != want {
			t.Errorf("isText(%q) = %v", ct, got)
		}
	}
}
