package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
)

const (
	sessionCookie = "faas_session"
	// signinCookie carries the sign-in form's CSRF token (double submit):
	// before a session there is nothing server-side to compare it with.
	signinCookie = "faas_signin"
	// sessionIdle and sessionMax bound a session: unused for 2 hours, or
	// 12 hours after sign-in, it ends.
	sessionIdle = 2 * time.Hour
	sessionMax  = 12 * time.Hour
	maxSessions = 10000
)

// session is one signed-in browser. It lives in the server's memory only:
// a restart signs everyone out, and the token never leaves the server.
type session struct {
	id, csrf string
	// token is what the session signed in with; every page checks it
	// again, so a revoked token ends its sessions.
	token    string
	owner    string
	created  time.Time
	lastSeen time.Time

	mu sync.Mutex
	// top is the session's last look at the instances (the top page).
	top *engine.Snapshot
}

type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (ss *sessions) create(owner, token string) *session {
	now := ss.now()
	s := &session{id: randomID(), csrf: randomID(), token: token, owner: owner, created: now, lastSeen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.expireLocked(now)
	}
	ss.m[s.id] = s
	return s
}

func (ss *sessions) expireLocked(now time.Time) {
	for id, s := range ss.m {
		if now.Sub(s.lastSeen) > sessionIdle || now.Sub(s.created) > sessionMax {
			delete(ss.m, id)
		}
	}
}

func (ss *sessions) get(id string) *session {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if now.Sub(s.lastSeen) > sessionIdle || now.Sub(s.created) > sessionMax {
		delete(ss.m, id)
		return nil
	}
	s.lastSeen = now
	return s
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// pageHandler is a page with its session and the session owner's view of
// the engine.
type pageHandler func(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine)

// page finds the request's session (under --dev, makes one), checks its
// token again and, for a POST, that the form came from this dashboard.
// Without a session a GET goes to the sign-in page and a POST is refused.
func (d *Dashboard) page(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			s = d.sessions.get(c.Value)
		}
		if s != nil && !d.o.Dev {
			if owner, ok := d.o.Owner(r.Context(), s.token); !ok || owner != s.owner {
				d.sessions.drop(s.id)
				s = nil
			}
		}
		if s == nil && d.o.Dev && r.Method == http.MethodGet {
			s = d.sessions.create("", "")
			setCookie(w, r, sessionCookie, s.id, int(sessionMax.Seconds()))
		}
		if s == nil {
			if r.Method != http.MethodGet {
				d.errorPage(w, r, nil, fault.WithHint(fault.Newf(fault.Unauthorized, "not signed in"), "sign in at "+Prefix+"signin"))
				return
			}
			http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet {
			if err := d.checkForm(w, r, s.csrf); err != nil {
				d.errorPage(w, r, s, err)
				return
			}
		}
		eng := d.o.Engine
		if !d.o.Dev {
			eng = eng.As(s.owner)
		}
		h(w, r, s, eng)
	}
}

// errForged is the answer to a form that did not come from a page of
// this dashboard.
var errForged = errors.New("refused a form that did not come from this dashboard")

// checkForm refuses a cross-site form: the browser's own word on where it
// came from (Sec-Fetch-Site, Origin) and the session's CSRF token in the
// form, compared in constant time.
func (d *Dashboard) checkForm(w http.ResponseWriter, r *http.Request, want string) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errForged
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return errForged
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(d.o.DeployLimit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fault.Newf(fault.TooLarge, "the form is over the %d MiB limit", mbe.Limit>>20)
		}
		return fault.Usagef("read the form: %v", err)
	}
	got := r.PostFormValue("csrf")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errForged
	}
	return nil
}

func (d *Dashboard) signinPage(w http.ResponseWriter, r *http.Request) {
	if d.o.Dev {
		http.Redirect(w, r, Prefix+"functions", http.StatusSeeOther)
		return
	}
	d.renderSignin(w, r, http.StatusOK, "")
}

func (d *Dashboard) renderSignin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	token := randomID()
	setCookie(w, r, signinCookie, token, 3600)
	d.render(w, code, "signin.html", view{Title: "Sign in", Error: msg,
		Hint: map[bool]string{true: "an admin makes a token with `faas serve token create NAME`"}[msg != ""],
		CSRF: token, Data: safeNext(r.FormValue("next"))})
}

// safeNext keeps a redirect after sign-in on this dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "functions"
	}
	return next
}

func (d *Dashboard) signin(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(signinCookie)
	if err != nil || d.checkForm(w, r, c.Value) != nil {
		d.errorPage(w, r, nil, errForged)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	owner, ok := d.o.Owner(r.Context(), token)
	if !ok {
		d.renderSignin(w, r, http.StatusUnauthorized, "unknown API token")
		return
	}
	s := d.sessions.create(owner, token)
	setCookie(w, r, sessionCookie, s.id, int(sessionMax.Seconds()))
	setCookie(w, r, signinCookie, "", -1)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *Dashboard) signout(w http.ResponseWriter, r *http.Request, s *session, _ *engine.Engine) {
	d.sessions.drop(s.id)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
