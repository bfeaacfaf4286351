// Package web is faas serve's dashboard: server-rendered pages over the
// same engine views as the API (engine.As(owner)), signed in with an API
// token kept in a server-side session. Templates and assets are embedded;
// the pages read without JavaScript, and a small script refreshes the
// live parts. docs/serve.md#the-dashboard is its reference.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Prefix is where the dashboard's pages live; "/" redirects into it.
const Prefix = "/ui/"

// Options configure the dashboard.
type Options struct {
	// Engine is the server's engine; each request gets Engine.As(owner).
	Engine *engine.Engine
	// Owner finds a token's owner: the API's own check, so that a token
	// revoked for the API is revoked for the dashboard at the next page.
	Owner func(ctx context.Context, token string) (string, bool)
	// Dev serves the local user without tokens, as the API does under
	// faas serve --dev: every function is visible.
	Dev bool
	// Invoke runs a synchronous invoke as the API does (its per-owner
	// limit and metrics); nil calls eng.Invoke.
	Invoke func(ctx context.Context, eng *engine.Engine, r engine.InvokeRequest) (store.Job, error)
	// DeployLimit bounds an uploaded file or archive, in bytes.
	DeployLimit int64
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Dashboard serves the pages.
type Dashboard struct {
	o        Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
}

// New returns the dashboard; it panics only if its embedded templates do
// not parse, which a test would have caught.
func New(o Options) *Dashboard {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Invoke == nil {
		o.Invoke = func(ctx context.Context, eng *engine.Engine, r engine.InvokeRequest) (store.Job, error) {
			return eng.Invoke(ctx, r)
		}
	}
	if o.DeployLimit <= 0 {
		o.DeployLimit = 50 << 20
	}
	d := &Dashboard{o: o, pages: parsePages(), sessions: newSessions(o.Now)}
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"functions", http.StatusSeeOther)
	})
	assets, _ := fs.Sub(assetFS, "assets")
	m.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", cached(http.FileServerFS(assets))))
	m.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"functions", http.StatusSeeOther)
	})
	m.HandleFunc("GET /ui/signin", d.signinPage)
	m.HandleFunc("POST /ui/signin", d.signin)
	m.HandleFunc("POST /ui/signout", d.page(d.signout))
	m.HandleFunc("GET /ui/functions", d.page(d.functionsPage))
	m.HandleFunc("POST /ui/functions", d.page(d.deploy))
	m.HandleFunc("GET /ui/functions/{name}", d.page(d.functionPage))
	m.HandleFunc("POST /ui/functions/{name}/invoke", d.page(d.invoke))
	m.HandleFunc("POST /ui/functions/{name}/rollback", d.page(d.rollback))
	m.HandleFunc("POST /ui/functions/{name}/config", d.page(d.configure))
	m.HandleFunc("POST /ui/functions/{name}/delete", d.page(d.remove))
	m.HandleFunc("GET /ui/jobs", d.page(d.jobsPage))
	m.HandleFunc("GET /ui/jobs/{id}", d.page(d.jobPage))
	m.HandleFunc("GET /ui/jobs/{id}/follow", d.page(d.followJob))
	m.HandleFunc("GET /ui/bill", d.page(d.billPage))
	m.HandleFunc("GET /ui/top", d.page(d.topPage))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		d.errorPage(w, r, nil, fault.NotFoundf("no such page: %s", r.URL.Path))
	})
	d.mux = m
	return d
}

// ServeHTTP serves the dashboard's paths: "/" and everything under Prefix.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages are nobody else's to frame, sniff or cache.
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	d.mux.ServeHTTP(w, r)
}

func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// view is what every page's template gets.
type view struct {
	Title  string
	Nav    string
	Owner  string
	Dev    bool
	CSRF   string
	Notice string
	Error  string
	Hint   string
	// Live asks the script to refresh the page's live parts.
	Live bool
	Data any
}

// render writes a page with status code.
func (d *Dashboard) render(w http.ResponseWriter, code int, name string, v view) {
	t, ok := d.pages[name]
	if !ok {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = t.ExecuteTemplate(w, "layout", v)
}

// errorPage answers an error as the API would (its status code), as a
// page; s is the session when there is one.
func (d *Dashboard) errorPage(w http.ResponseWriter, r *http.Request, s *session, err error) {
	code, body := api.NewError(err)
	if errors.Is(err, errForged) {
		code, body.Hint = http.StatusForbidden, "reload the page and send the form again"
	}
	v := view{Title: http.StatusText(code), Error: body.Error, Hint: body.Hint, Dev: d.o.Dev}
	if s != nil {
		v.Owner, v.CSRF = s.owner, s.csrf
	}
	d.render(w, code, "error.html", v)
}
