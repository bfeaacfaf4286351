package agent

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// input is what a script is given besides its code: stdin, and for an
// HTTP function's call the request as CGI variables (RFC 3875).
type input struct {
	stdin []byte
	// cgi is nil but for an HTTP call.
	cgi map[string]string
}

// cgiValueLimit bounds one header's variable: a longer header is in the
// event only (a handler sees it), not in a script's environment, whose
// strings the kernel caps at 128 KiB each.
const cgiValueLimit = 32 << 10

// cgiHeaderName is a header that becomes HTTP_NAME: letters, digits and
// hyphens only, so that no two headers make one variable.
var cgiHeaderName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// scriptInput is a script's stdin (the payload) or, for an HTTP call, the
// request's body and its CGI variables, read back from the event.
func scriptInput(inv faastype.Invocation) (input, error) {
	if !inv.HTTP {
		return input{stdin: inv.Payload}, nil
	}
	var ev faastype.HTTPEvent
	if err := json.Unmarshal(inv.Payload, &ev); err != nil || ev.Version != faastype.HTTPEventVersion {
		return input{}, fault.Platformf("the HTTP call's event cannot be read (%v)", err)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return input{}, fault.Platformf("the HTTP call's body is not base64: %v", err)
		}
	}
	return input{stdin: body, cgi: cgiVars(ev, inv.Function, len(body))}, nil
}

// cgiVars are the request's CGI variables. A script is at /fn/NAME
// (SCRIPT_NAME) and the rest of the path is PATH_INFO.
func cgiVars(ev faastype.HTTPEvent, fn string, n int) map[string]string {
	h := ev.RequestContext.HTTP
	uri := "/fn/" + fn + ev.RawPath
	if ev.RawQueryString != "" {
		uri += "?" + ev.RawQueryString
	}
	host := ev.RequestContext.DomainName
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	v := map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_SOFTWARE":   "faas",
		"SERVER_PROTOCOL":   h.Protocol,
		"SERVER_NAME":       host,
		"REQUEST_METHOD":    h.Method,
		"SCRIPT_NAME":       "/fn/" + fn,
		"PATH_INFO":         h.Path,
		"QUERY_STRING":      ev.RawQueryString,
		"REQUEST_URI":       uri,
		"REMOTE_ADDR":       h.SourceIP,
		"CONTENT_LENGTH":    strconv.Itoa(n),
	}
	if ct := ev.Headers["content-type"]; ct != "" {
		v["CONTENT_TYPE"] = ct
	}
	for name, val := range ev.Headers {
		// Content-Type and -Length have their own variables; Proxy would
		// be HTTP_PROXY, which HTTP clients take as their proxy (httpoxy).
		if name == "content-type" || name == "content-length" || name == "proxy" || !cgiHeaderName.MatchString(name) ||
			len(val) > cgiValueLimit || strings.IndexByte(val, 0) >= 0 {
			continue
		}
		v["HTTP_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))] = val
	}
	if len(ev.Cookies) > 0 {
		if c := strings.Join(ev.Cookies, "; "); len(c) <= cgiValueLimit {
			v["HTTP_COOKIE"] = c
		}
	}
	return v
}

// environ is the script's environment: environ's, and the CGI variables
// where the function's own settings do not name them. An HTTP call's
// payload is its event, not passed in FAAS_PAYLOAD: the body is stdin.
func (in input) environ(inv faastype.Invocation, workdir string, deadline time.Time) []string {
	env := environVars(inv, workdir, deadline)
	if in.cgi != nil {
		delete(env, "FAAS_PAYLOAD")
		for k, val := range in.cgi {
			if _, set := env[k]; !set {
				env[k] = val
			}
		}
	}
	return function.EnvList(env)
}
