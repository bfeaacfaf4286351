package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDeployAnArchive: a zip of a directory uploaded from the page deploys
// as `faas deploy app.zip` does: named after the archive, its handler file
// found at the root, the other files beside it.
func TestDeployAnArchive(t *testing.T) {
	base, e := start(t, "alice")
	c := browser()
	csrf := signIn(t, c, base, "alice")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, body := range map[string]string{
		"app/handler.py":  "from greeting import hello\ndef handler(event, context):\n    return hello(event.get('name', 'world'))\n",
		"app/greeting.py": "def hello(name):\n    return 'Hi, ' + name\n",
	} {
		w, _ := zw.Create(name)
		_, _ = io.WriteString(w, body)
	}
	zw.Close()
	resp, page := upload(t, c, base, csrf, "greeter.zip", zbuf.Bytes())
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/functions/greeter?") {
		t.Fatalf("deploying the zip answered %d %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	fn, err := e.As("alice").Function(context.Background(), "greeter")
	if err != nil || !fn.Current.Tree || fn.Current.Filename != "handler.py" {
		t.Fatalf("greeter = %+v, %v; want a tree with handler.py", fn.Current, err)
	}
	resp, out := post(t, c, base+"/ui/functions/greeter/invoke", url.Values{"csrf": {csrf}, "payload": {`{"name":"Ada"}`}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "Hi, Ada") {
		t.Fatalf("invoking the archive's function answered %d:\n%s", resp.StatusCode, out)
	}
}

// TestRedeployKeepsUnnamedSettings: uploading new code with one setting
// changes that one and keeps the rest, as `faas deploy --timeout` does.
func TestRedeployKeepsUnnamedSettings(t *testing.T) {
	base, e := start(t, "alice")
	c := browser()
	csrf := signIn(t, c, base, "alice")
	if resp, page := upload(t, c, base, csrf, "hello.py", []byte(hello), "memory_mb", "192"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deploy answered %d:\n%s", resp.StatusCode, page)
	}
	if resp, page := upload(t, c, base, csrf, "hello.py", []byte(hello+"# v2\n"), "timeout_s", "7"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeploy answered %d:\n%s", resp.StatusCode, page)
	}
	fn, err := e.As("alice").Function(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := fn.Current.Config; fn.Current.Version != 2 || cfg.MemoryMB != 192 || cfg.TimeoutMS != 7000 {
		t.Fatalf("after the redeploy: version %d, memory %d MB, timeout %d ms; want 2, 192, 7000", fn.Current.Version, cfg.MemoryMB, cfg.TimeoutMS)
	}
}
