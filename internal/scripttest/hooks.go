package scripttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHookServer starts an HTTP server on loopback that records each
// request it gets as DIR/N.txt (1, 2, …; written whole, at once): the
// method and path, the X-Faas-* and Content-Type headers, a blank line
// and the body. It sets HOOK to its URL and answers STATUS (default 200):
// `hookserver DIR [STATUS]`. It stops when the script ends.
func cmdHookServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: hookserver DIR [STATUS]")
	}
	status := http.StatusOK
	if len(args) == 2 {
		fmt.Sscan(args[1], &status)
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var mu sync.Mutex
	n := 0
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		var hs []string
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Faas-") || k == "Content-Type" || k == "User-Agent" {
				hs = append(hs, k+": "+strings.Join(v, ", "))
			}
		}
		sort.Strings(hs)
		b.WriteString(strings.Join(hs, "\n") + "\n\n")
		b.Write(body)
		mu.Lock()
		n++
		name := filepath.Join(dir, fmt.Sprintf("%d.txt", n))
		mu.Unlock()
		if err := os.WriteFile(name+".tmp", []byte(b.String()), 0o644); err == nil {
			_ = os.Rename(name+".tmp", name)
		}
		w.WriteHeader(status)
	})}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("HOOK", "http://"+ln.Addr().String())
}

// cmdWaitJSON runs a command until its stdout, JSON, has VALUE at PATH
// (as the json command reads them), or three minutes have passed (a
// bound for a loaded machine, not a pace):
// `waitjson PATH VALUE CMD ARGS...`.
func cmdWaitJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: waitjson PATH VALUE CMD ARGS...")
	}
	deadline := time.Now().Add(3 * time.Minute)
	var got any
	for {
		if err := ts.Exec(args[2], args[3:]...); err == nil {
			var v any
			if json.Unmarshal([]byte(ts.ReadFile("stdout")), &v) == nil {
				if got, err = jsonAt(v, args[0]); err == nil && fmt.Sprint(got) == args[1] {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitjson: %s is %v, not %s, after three minutes", args[0], got, args[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
