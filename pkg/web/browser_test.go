package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (CI's .ci/run installs it). Without
// one the browser tests skip, saying so, unless FAAS_TEST_CHROMIUM=required
// (set by .ci/run once it is installed) makes its absence a failure.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FAAS_TEST_CHROMIUM") == "required" {
		t.Fatal("chromium is not on PATH, and FAAS_TEST_CHROMIUM=required")
	}
	t.Skip("skipped: chromium is not installed here (apt-get install chromium; .ci/run installs it)")
	return ""
}

// newBrowser starts a headless Chromium of its own (its own cookies) and
// returns a context to drive it.
func newBrowser(t *testing.T, width, height int) context.Context {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox (it needs an
		// unprivileged user for its namespaces): CI runs as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser with no deadline (a deadline on the first run
	// would bound the browser's life); the steps get one each below.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a minute's bound.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// shots saves screenshots of the pages when FAAS_SCREENSHOTS names a
// folder (docs/images: `FAAS_SCREENSHOTS=$PWD/docs/images go test
// ./pkg/web -run TestBrowser`), not on every run.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("FAAS_SCREENSHOTS")
	if dir == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signInWith(t *testing.T, ctx context.Context, base, owner string) {
	step(t, ctx, "sign in as "+owner,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
	shot(t, ctx, "signin")
	step(t, ctx, "send the token",
		chromedp.SendKeys(chromedp.CSS("#token"), "faas_test_"+owner),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#deploy")),
	)
}

// TestBrowser drives the dashboard in headless Chromium as a person would:
// sign in, deploy a file by upload, invoke it from its page, find the job
// and its cost, the bill's chart and top; then a second owner's browser
// finds none of it, and a page on another origin cannot post a form.
func TestBrowser(t *testing.T) {
	base, e := start(t, "alice", "bob")
	ctx := newBrowser(t, 1280, 900)
	signInWith(t, ctx, base, "alice")

	src := filepath.Join(t.TempDir(), "hello.py")
	if err := os.WriteFile(src, []byte(hello), 0o644); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "deploy by upload",
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}),
		chromedp.SendKeys(chromedp.CSS("#memory_mb"), "128"),
		chromedp.Click(chromedp.CSS(`form[action="/ui/functions"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#invoke-form")),
	)
	if h1 := text(t, ctx, "h1"); h1 != "hello" {
		t.Fatalf("after the deploy the page is %q, want the function hello", h1)
	}
	step(t, ctx, "invoke from the page",
		chromedp.SetValue(chromedp.CSS("#payload"), `{"name": "Ada"}`),
		chromedp.Click(chromedp.CSS("#invoke-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#result-body")),
	)
	if got := text(t, ctx, "#result-body"); !strings.Contains(got, "Hello, Ada!") {
		t.Fatalf("the result shown is %q, want Hello, Ada!", got)
	}
	shot(t, ctx, "function")

	step(t, ctx, "the jobs list",
		chromedp.Navigate(base+"/ui/jobs"),
		chromedp.WaitVisible(chromedp.CSS("table.jobs")),
	)
	row := text(t, ctx, "table.jobs tbody tr")
	if !strings.Contains(row, "hello") || !strings.Contains(row, "completed") || !strings.Contains(row, "$0.") {
		t.Fatalf("the jobs list's first row is %q, want hello completed with its cost", row)
	}
	jobs, _ := e.Jobs(context.Background(), storeFilter("hello"))
	if len(jobs) != 1 {
		t.Fatalf("%d jobs recorded, want 1", len(jobs))
	}
	cost := fmt.Sprintf("$%s", priceOf(jobs[0].RequestPico+jobs[0].ComputePico))
	if !strings.Contains(row, cost) {
		t.Fatalf("the jobs list shows %q, want the job's cost %s", row, cost)
	}
	shot(t, ctx, "jobs")
	step(t, ctx, "a job's page",
		chromedp.Click(chromedp.CSS("table.jobs tbody tr a")),
		chromedp.WaitVisible(chromedp.CSS("#job-result")),
	)
	if got := text(t, ctx, "#job-logs"); !strings.Contains(got, "greeting Ada") {
		t.Fatalf("the job's logs are %q", got)
	}
	shot(t, ctx, "job")

	step(t, ctx, "the bill",
		chromedp.Navigate(base+"/ui/bill"),
		chromedp.WaitVisible(chromedp.CSS("svg#bill-chart")),
	)
	if bars := eval[int](t, ctx, `document.querySelectorAll("#bill-chart rect.bar").length`); bars < 28 {
		t.Fatalf("the bill's chart has %d bars, want one per day", bars)
	}
	if got := text(t, ctx, "#bill-functions"); !strings.Contains(got, "hello") {
		t.Fatalf("the bill's table is %q, want a line for hello", got)
	}
	shot(t, ctx, "bill")
	step(t, ctx, "top",
		chromedp.Navigate(base+"/ui/top"),
		chromedp.WaitVisible(chromedp.CSS("svg#cpu-chart")),
		chromedp.WaitVisible(chromedp.CSS("svg#mem-chart")),
	)
	if os.Getenv("FAAS_SCREENSHOTS") != "" {
		// A few more looks, and a few more calls, for lines worth a picture.
		for i := 0; i < 6; i++ {
			step(t, ctx, "invoke once more", chromedp.Navigate(base+"/ui/functions/hello"), chromedp.Click(chromedp.CSS("#invoke-form button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#result-body")), chromedp.Navigate(base+"/ui/top"), chromedp.WaitVisible(chromedp.CSS("svg#cpu-chart")))
		}
	}
	if got := text(t, ctx, "#top-live"); !strings.Contains(got, "hello") {
		t.Fatalf("top shows %q, want hello's instance", got)
	}
	shot(t, ctx, "top")

	// A phone's width: the pages fit it without sideways scrolling.
	step(t, ctx, "a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/ui/functions/hello"), chromedp.WaitVisible(chromedp.CSS("#invoke-form")))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("at a phone's width the function page is %d px wide", w)
	}
	shot(t, ctx, "phone")
	step(t, ctx, "back to a desktop's width", chromedp.EmulateViewport(1280, 900))

	t.Run("another owner", func(t *testing.T) {
		bob := newBrowser(t, 1280, 900)
		signInWith(t, bob, base, "bob")
		if got := text(t, bob, "main"); strings.Contains(got, "hello") {
			t.Fatalf("bob's functions page shows alice's: %q", got)
		}
		if code := eval[int](t, bob, `fetch("/ui/functions/hello").then(r => r.status)`); code != http.StatusNotFound {
			t.Fatalf("bob's GET of alice's function answered %d, want 404", code)
		}
		step(t, bob, "open alice's function", chromedp.Navigate(base+"/ui/functions/hello"), chromedp.WaitVisible(chromedp.CSS("main")))
		if got := text(t, bob, "main"); !strings.Contains(got, "not found") {
			t.Fatalf("bob's page for alice's function says %q, want not found", got)
		}
	})

	t.Run("a forged cross-site post", func(t *testing.T) {
		// A page on another origin (another port: the same site, so
		// SameSite lets the cookie go; the form's token and the browser's
		// Origin and Sec-Fetch-Site headers are what refuse it).
		evil := serveEvil(t, `<form id="f" method="post" action="`+base+`/ui/functions/hello/delete">
			<input type="hidden" name="csrf" value="guessed"></form><script>document.getElementById("f").submit()</script>`)
		step(t, ctx, "visit the other site",
			chromedp.Navigate(evil),
			chromedp.WaitVisible(chromedp.CSS(".error")),
		)
		if got := text(t, ctx, ".error"); !strings.Contains(got, "did not come from this dashboard") {
			t.Fatalf("the forged post's answer says %q", got)
		}
		if _, err := e.Function(context.Background(), "hello"); err != nil {
			t.Fatalf("the forged post removed the function: %v", err)
		}
	})
}

// serveEvil serves page at / on another loopback port and returns its URL.
func serveEvil(t *testing.T, page string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>elsewhere</title>"+page)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}
