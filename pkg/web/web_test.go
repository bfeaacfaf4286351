package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	_ "github.com/faasdev/faas/pkg/provider/local"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// The test binary doubles as faas for the agents the local provider starts.
func TestMain(m *testing.M) { scripttest.DoubleAsFaas(m) }

// start serves a fresh engine on a loopback port with one token per
// owner ("faas_test_" + owner); it returns the base URL.
func start(tb testing.TB, owners ...string) (string, *engine.Engine) {
	return startWith(tb, server.Options{}, owners...)
}

// startWith is start with the server's options (Engine is filled in).
func startWith(tb testing.TB, o server.Options, owners ...string) (string, *engine.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	e, err := cmdutil.OpenEngine(ctx, tb.TempDir(), sqlite.BackgroundCheckpoints(500*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range owners {
		if err := e.CreateToken(ctx, o, server.HashToken("faas_test_"+o)); err != nil {
			tb.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	o.Engine = e
	go func() { done <- server.New(o).Serve(ctx, ln, "", "") }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
		fns, _ := e.Functions(context.Background())
		for _, f := range fns {
			_ = e.Remove(context.Background(), f.Name)
		}
		e.Close()
	})
	return "http://" + ln.Addr().String(), e
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is an HTTP client with cookies that does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// signIn signs c in as owner and returns the session's CSRF token.
func signIn(t *testing.T, c *http.Client, base, owner string) string {
	t.Helper()
	_, page := get(t, c, base+"/ui/signin")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the sign-in page has no CSRF field:\n%s", page)
	}
	resp, _ := post(t, c, base+"/ui/signin", url.Values{"csrf": {m[1]}, "token": {"faas_test_" + owner}, "next": {"/ui/jobs"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/jobs" {
		t.Fatalf("sign-in answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = get(t, c, base+"/ui/functions")
	m = csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the functions page has no CSRF field:\n%s", page)
	}
	return m[1]
}

func TestSignInKeepsTheTokenOutOfTheBrowser(t *testing.T) {
	base, _ := start(t, "alice")
	c := browser()
	resp, _ := get(t, c, base+"/ui/functions")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/signin") {
		t.Fatalf("a page without a session answered %d %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A wrong token is refused and makes no session.
	_, page := get(t, c, base+"/ui/signin")
	csrf := csrfField.FindStringSubmatch(page)[1]
	resp, _ = post(t, c, base+"/ui/signin", url.Values{"csrf": {csrf}, "token": {"faas_wrong"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token answered %d, want 401", resp.StatusCode)
	}
	_, page = get(t, c, base+"/ui/signin")
	csrf = csrfField.FindStringSubmatch(page)[1]
	resp, _ = post(t, c, base+"/ui/signin", url.Values{"csrf": {csrf}, "token": {"faas_test_alice"}}, nil)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "faas_session" {
			session = ck
		}
		if strings.Contains(ck.Value, "faas_test_alice") {
			t.Errorf("cookie %s carries the token", ck.Name)
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Value == "" {
		t.Fatalf("session cookie = %+v, want HttpOnly and SameSite=Strict", session)
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "faas_test") {
		t.Errorf("the redirect carries the token: %s", loc)
	}
	resp, page = get(t, c, base+"/ui/functions")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "alice") {
		t.Fatalf("signed in, the functions page answered %d:\n%s", resp.StatusCode, page)
	}
}

func TestSignInRefusesAForgedForm(t *testing.T) {
	base, _ := start(t, "alice")
	c := browser()
	get(t, c, base+"/ui/signin")
	// No CSRF field: a login form posted from elsewhere.
	resp, _ := post(t, c, base+"/ui/signin", url.Values{"token": {"faas_test_alice"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a sign-in without its CSRF token answered %d, want 403", resp.StatusCode)
	}
}

func TestRevokedTokenEndsItsSessions(t *testing.T) {
	base, e := start(t, "alice")
	c := browser()
	signIn(t, c, base, "alice")
	if err := e.RevokeToken(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	resp, _ := get(t, c, base+"/ui/functions")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after revoking the token the page answered %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestForgedPostsAreRefused(t *testing.T) {
	base, e := start(t, "alice")
	c := browser()
	csrf := signIn(t, c, base, "alice")
	deployHello(t, c, base, csrf)
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"no token":          {url.Values{}, nil},
		"a wrong token":     {url.Values{"csrf": {"x" + csrf}}, nil},
		"another origin":    {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "http://evil.example"}},
		"a cross-site form": {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"a same-site page":  {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
	} {
		resp, page := post(t, c, base+"/ui/functions/hello/delete", tc.form, tc.header)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "did not come from this dashboard") {
			t.Errorf("%s: answered %d, want 403", name, resp.StatusCode)
		}
	}
	if _, err := e.Function(context.Background(), "hello"); err != nil {
		t.Fatalf("a refused form removed the function: %v", err)
	}
	// The page's own form, with the session's token, works.
	resp, _ := post(t, c, base+"/ui/functions/hello/delete", url.Values{"csrf": {csrf}}, map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the dashboard's own form answered %d", resp.StatusCode)
	}
}

func TestOwnersSeeOnlyTheirOwn(t *testing.T) {
	base, _ := start(t, "alice", "bob")
	alice, bob := browser(), browser()
	deployHello(t, alice, base, signIn(t, alice, base, "alice"))
	bcsrf := signIn(t, bob, base, "bob")
	for _, p := range []string{"/ui/functions/hello"} {
		if resp, _ := get(t, bob, base+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("bob GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/ui/functions/hello/invoke", "/ui/functions/hello/rollback", "/ui/functions/hello/delete", "/ui/functions/hello/config"} {
		if resp, _ := post(t, bob, base+p, url.Values{"csrf": {bcsrf}}, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("bob POST %s = %d, want 404", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/ui/functions", "/ui/jobs", "/ui/bill", "/ui/top"} {
		resp, page := get(t, bob, base+p)
		if resp.StatusCode != http.StatusOK || strings.Contains(page, "hello") {
			t.Errorf("bob's %s (%d) shows alice's function", p, resp.StatusCode)
		}
	}
	_, page := get(t, alice, base+"/ui/jobs")
	id := regexp.MustCompile(`/ui/jobs/([0-9a-z]+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("alice's jobs page lists no job:\n%s", page)
	}
	if resp, _ := get(t, bob, base+"/ui/jobs/"+id[1]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob GET alice's job = %d, want 404", resp.StatusCode)
	}
}

const hello = `def handler(event, context):
    print("greeting", event.get("name"))
    return {"message": "Hello, " + event.get("name", "world") + "!"}
`

// deployHello deploys hello.py with the upload form and invokes it once
// from the function's page.
func deployHello(t *testing.T, c *http.Client, base, csrf string) {
	t.Helper()
	resp, page := upload(t, c, base, csrf, "hello.py", []byte(hello))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/functions/hello?") {
		t.Fatalf("deploy answered %d %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	resp, out := post(t, c, base+"/ui/functions/hello/invoke", url.Values{"csrf": {csrf}, "payload": {`{"name":"Ada"}`}}, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "Hello, Ada!") {
		t.Fatalf("invoke answered %d:\n%s", resp.StatusCode, out)
	}
}

func storeFilter(fn string) store.JobFilter { return store.JobFilter{Function: fn} }

func priceOf(pico int64) string { return billing.Pico(pico).String() }

func defaultConfig() function.Config { return function.DefaultConfig() }

// upload posts the deploy form with a file, as the page's form does.
func upload(t *testing.T, c *http.Client, base, csrf, filename string, data []byte, fields ...string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/ui/functions", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(page)
}
