package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

// httpFunction serves /fn/NAME and /fn/NAME/…, every method: one call of
// the function with the request as a Lambda function-URL event (version
// 2.0), its result as the response. docs/serve.md#http-functions.
func (s *Server) httpFunction(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	if err := function.ValidateName(name); err != nil {
		s.fail(w, err)
		return
	}
	eng, fn, tokenUsed, ok := s.httpCaller(w, r, name)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, bodyErr(err, "read the body"))
		return
	}
	id := engine.NewJobID(start)
	event, err := json.Marshal(newHTTPEvent(r, name, eng.Owner, id, body, tokenUsed, start))
	if err != nil {
		s.fail(w, fault.Platformf("encode the event: %v", err))
		return
	}
	if len(event) > engine.PayloadLimit {
		s.fail(w, fault.Newf(fault.TooLarge, "the request's event is %d bytes (its body, in base64 when binary, and headers), over the %d MiB limit",
			len(event), engine.PayloadLimit>>20))
		return
	}
	if !s.acquire(eng.Owner) {
		s.metricsOf(eng.Owner).throttled.Add(1)
		s.fail(w, fault.WithHint(fault.Newf(fault.Busy, "too many invocations in flight (limit %d)", s.o.PerOwner), "retry after a second"))
		return
	}
	job, err := eng.Invoke(r.Context(), engine.InvokeRequest{Name: name, Payload: event, Trigger: faastype.TriggerHTTP, JobID: id, Function: fn})
	s.release(eng.Owner)
	if job.ID != "" {
		s.observe(job, err)
		if err == nil {
			s.metricsOf(eng.Owner).overhead.observe(max(time.Since(start)-job.Duration, 0))
		}
		jobHeaders(w.Header(), job)
	}
	switch {
	case err != nil:
		s.fail(w, err)
	case job.Status == store.StatusTimeout:
		s.functionFailed(w, http.StatusGatewayTimeout, job, "function "+name+" timed out")
	case job.Status != store.StatusCompleted:
		s.functionFailed(w, http.StatusBadGateway, job, "function "+name+" failed")
	default:
		if err := writeFunctionResponse(w, job.Result); err != nil {
			s.functionFailed(w, http.StatusBadGateway, job, "function "+name+" gave an invalid response: "+err.Error())
		}
	}
}

// httpCaller decides who calls: under --dev the local user, every
// function; else anyone for a public function (as its owner, who pays),
// and only its owner's token for a private one. Without a valid token a
// private function and none at all both answer 401; with another owner's,
// 404: nothing says that a private function exists. tokenUsed says the
// Authorization header was faas' own, not the function's to see. fn is
// the function as read for the decision (nil: read it when invoking).
func (s *Server) httpCaller(w http.ResponseWriter, r *http.Request, name string) (eng *engine.Engine, fn *store.Function, tokenUsed, ok bool) {
	if s.o.Dev {
		return s.eng, nil, false, true
	}
	f, err := s.eng.Function(r.Context(), name)
	if err != nil && fault.KindOf(err) != fault.NotFound {
		s.fail(w, err)
		return nil, nil, false, false
	}
	found := err == nil
	if found && f.Current.Config.HTTP == function.HTTPPublic {
		if rec, ok := w.(*statusRecorder); ok {
			rec.owner = f.Owner // its requests are in its owner's metrics
		}
		return s.eng.As(f.Owner), &f, false, true
	}
	owner, known := s.bearer(r)
	if !known {
		w.Header().Set("WWW-Authenticate", `Bearer realm="faas"`)
		s.fail(w, fault.WithHint(fault.Newf(fault.Unauthorized, "missing or unknown API token"),
			"a private function answers its owner's token only (`faas deploy --http public` opens it to anyone)"))
		return nil, nil, false, false
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.owner = owner
	}
	if !found || f.Owner != owner {
		s.fail(w, fault.NotFoundf("function %q not found", name))
		return nil, nil, false, false
	}
	return s.eng.As(owner), &f, true, true
}

// newHTTPEvent is r as a function URL's event. The path is the function's
// own: /fn/NAME/a/b is /a/b, /fn/NAME is /.
func newHTTPEvent(r *http.Request, name, owner, jobID string, body []byte, tokenUsed bool, now time.Time) faastype.HTTPEvent {
	prefix := "/fn/" + name
	raw := strings.TrimPrefix(r.URL.EscapedPath(), prefix)
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if raw == "" {
		raw, path = "/", "/"
	}
	ev := faastype.HTTPEvent{Version: faastype.HTTPEventVersion, RouteKey: "$default", RawPath: raw, RawQueryString: r.URL.RawQuery,
		Headers: make(map[string]string, len(r.Header)+1)}
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		switch {
		case k == "cookie":
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
		case k == "authorization" && tokenUsed:
		default:
			ev.Headers[k] = strings.Join(vs, ",")
		}
	}
	ev.Headers["host"] = r.Host
	if r.URL.RawQuery != "" {
		q, _ := url.ParseQuery(r.URL.RawQuery) // what parses, as Lambda does
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	c := &ev.RequestContext
	c.AccountID, c.APIID, c.DomainName, c.DomainPrefix = owner, name, r.Host, name
	c.HTTP.Method, c.HTTP.Path, c.HTTP.Protocol, c.HTTP.UserAgent = r.Method, path, r.Proto, r.UserAgent()
	c.HTTP.SourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	c.RequestID, c.RouteKey, c.Stage = jobID, "$default", "$default"
	c.Time, c.TimeEpoch = now.UTC().Format("02/Jan/2006:15:04:05 -0700"), now.UnixMilli()
	return ev
}

// isText says a body of this content type is text, passed as it is (when
// it is UTF-8) rather than in base64. No content type is text.
func isText(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") ||
		mt == "application/json" || mt == "application/xml" || mt == "application/javascript" ||
		mt == "application/x-www-form-urlencoded" || mt == "application/graphql"
}

// functionFailed answers a call whose function did not complete, as a
// function URL does: 502 (504 for a timeout), with the job to look at.
// The function's error is its owner's to read (faas jobs show ID), not
// every caller's; under --dev it is in the answer too.
func (s *Server) functionFailed(w http.ResponseWriter, code int, job store.Job, msg string) {
	if s.o.Dev && job.Error != "" {
		msg += ": " + job.Error
	}
	writeJSON(w, code, map[string]string{"error": msg, "kind": "function", "job_id": job.ID,
		"hint": "run `faas jobs show " + job.ID + "` for its error and logs"})
}

// functionURLResponse is a result that says how to answer: Lambda's
// function-URL response.
type functionURLResponse struct {
	StatusCode      int             `json:"statusCode"`
	Headers         map[string]any  `json:"headers"`
	Body            json.RawMessage `json:"body"`
	IsBase64Encoded bool            `json:"isBase64Encoded"`
	Cookies         []string        `json:"cookies"`
}

// writeFunctionResponse answers with a result: a JSON object with a
// statusCode is the response itself; any other result is a 200 body, a
// JSON string as its text. The error is a result that is not a valid
// response; nothing has been written then.
func writeFunctionResponse(w http.ResponseWriter, result []byte) error {
	trimmed := bytes.TrimSpace(result)
	if len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(trimmed, []byte(`"statusCode"`)) {
		var keys map[string]json.RawMessage
		if json.Unmarshal(trimmed, &keys) == nil && keys["statusCode"] != nil {
			return writeShaped(w, trimmed)
		}
	}
	body, ctype := result, contentType(result)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if json.Unmarshal(trimmed, &s) == nil {
			body, ctype = []byte(s), "text/plain; charset=utf-8"
		}
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

func writeShaped(w http.ResponseWriter, result []byte) error {
	var resp functionURLResponse
	if err := json.Unmarshal(result, &resp); err != nil {
		return fault.Usagef("%v", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return fault.Usagef("statusCode %d is not one from 200 to 599", resp.StatusCode)
	}
	var body []byte
	if len(resp.Body) > 0 && string(resp.Body) != "null" {
		var text string
		if err := json.Unmarshal(resp.Body, &text); err != nil {
			return fault.Usagef("body is not a string")
		}
		body = []byte(text)
		if resp.IsBase64Encoded {
			var err error
			if body, err = base64.StdEncoding.DecodeString(text); err != nil {
				return fault.Usagef("isBase64Encoded, but the body is not base64: %v", err)
			}
		}
	}
	h := w.Header()
	for k, v := range resp.Headers {
		lk := strings.ToLower(k)
		if !validHeaderName(k) || lk == "content-length" || lk == "transfer-encoding" || lk == "connection" || strings.HasPrefix(lk, "x-faas-") {
			continue
		}
		switch v := v.(type) {
		case string:
			h.Set(k, v)
		case float64, bool:
			b, _ := json.Marshal(v)
			h.Set(k, string(b))
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType(body))
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// contentType is a body's type when its function names none: JSON, text
// or bytes.
func contentType(b []byte) string {
	switch {
	case len(b) > 0 && json.Valid(b):
		return "application/json"
	case utf8.Valid(b):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// validHeaderName is an RFC 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
