package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/faastype"
)

func httpEvent(t *testing.T, body []byte, binary bool) []byte {
	t.Helper()
	ev := faastype.HTTPEvent{Version: faastype.HTTPEventVersion, RawPath: "/a/b", RawQueryString: "x=1&y=2",
		Headers: map[string]string{"content-type": "text/plain", "x-test": "yes", "proxy": "evil:1", "x_under": "no",
			"content-length": "99"},
		Cookies: []string{"a=1", "b=2"}, Body: string(body)}
	ev.RequestContext.HTTP.Method = "PUT"
	ev.RequestContext.HTTP.Path = "/a/b"
	ev.RequestContext.HTTP.Protocol = "HTTP/1.1"
	ev.RequestContext.HTTP.SourceIP = "127.0.0.1"
	ev.RequestContext.DomainName = "localhost:8080"
	if binary {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScriptGetsCGIRequest(t *testing.T) {
	for name, sb := range sandboxes() {
		t.Run(name, func(t *testing.T) {
			r := newHost(t, sb)
			code := `printf '%s|' "$REQUEST_METHOD" "$PATH_INFO" "$SCRIPT_NAME" "$QUERY_STRING" "$CONTENT_TYPE" "$CONTENT_LENGTH" ` +
				`"$HTTP_X_TEST" "$HTTP_COOKIE" "${HTTP_PROXY-unset}" "${HTTP_X_UNDER-unset}" "${FAAS_PAYLOAD-unset}" "$REQUEST_URI" "$SERVER_NAME"; od -An -tx1 | tr -d ' \n'`
			inv := invocation("cgi", "cgi.sh", code, nil)
			inv.HTTP = true
			inv.Payload = httpEvent(t, []byte{0, 1, 2, 0xff}, true)
			out, err := r.runScript(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			want := "PUT|/a/b|/fn/cgi|x=1&y=2|text/plain|4|yes|a=1; b=2|unset|unset|unset|/fn/cgi/a/b?x=1&y=2|localhost|000102ff"
			if out.Status != faastype.Completed || string(out.Result) != want {
				t.Fatalf("got %s %q (%s), want %q", out.Status, out.Result, out.Logs, want)
			}
		})
	}
}

func TestScriptWithoutHTTPGetsPayload(t *testing.T) {
	r := newHost(t, sandboxes()["rlimit"])
	inv := invocation("plain", "plain.sh", `printf '%s' "${REQUEST_METHOD-unset}"; cat`, nil)
	inv.Payload = httpEvent(t, []byte("hi"), false)
	out, err := r.runScript(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out.Result), `unset{"version":"2.0"`) {
		t.Fatalf("a script not called over HTTP got %q", out.Result)
	}
}

func TestScriptBadHTTPEventIsPlatformError(t *testing.T) {
	r := newHost(t, sandboxes()["rlimit"])
	inv := invocation("bad", "bad.sh", `cat`, nil)
	inv.HTTP, inv.Payload = true, []byte(`{"version":"1.0"}`)
	if _, err := r.runScript(context.Background(), inv); err == nil || !strings.Contains(err.Error(), "event cannot be read") {
		t.Fatalf("err = %v", err)
	}
}
