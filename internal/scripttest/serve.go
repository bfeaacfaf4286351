package scripttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdEnvFile sets a variable to a file's content, trimmed:
// `envfile TOKEN token.txt`.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// cmdWaitServer waits until a `faas serve` of $FAAS_HOME has recorded its
// address and answers /healthz, and sets SERVER to http://ADDR. With `!`,
// it waits until none is recorded as running.
func cmdWaitServer(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: [!] waitserver")
	}
	file := filepath.Join(ts.Getenv("FAAS_HOME"), "run", "serve.json")
	deadline := time.Now().Add(time.Minute)
	for ; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var st struct {
			PID  int    `json:"pid"`
			Addr string `json:"addr"`
		}
		b, err := os.ReadFile(file)
		up := err == nil && json.Unmarshal(b, &st) == nil && st.PID > 0 && syscall.Kill(st.PID, 0) == nil
		if neg {
			if !up {
				return
			}
			continue
		}
		if !up {
			continue
		}
		resp, err := http.Get("http://" + st.Addr + "/healthz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			ts.Setenv("SERVER", "http://"+st.Addr)
			return
		}
	}
	ts.Fatalf("waitserver: no server came up (or went) within a minute")
}

// cmdHTTP sends a request to $SERVER; the body is the next stdout to
// check, and the status line and headers are in the file http.headers
// ("HTTP 200", then "Name: value" lines, sorted), for grep:
//
//	http [-token VALUE | -notoken] [-size N | -file FILE] [-H 'Name: value']... [-header NAME=VALUE]... METHOD PATH [DATA]
//
// The token defaults to $FAAS_TOKEN; -size sends N bytes of 'x' as the
// body, -file a file's bytes; -H and -header add a header. `! http`
// expects a status of 400 or more.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	token, hasToken := ts.Getenv("FAAS_TOKEN"), true
	var body io.Reader
	header := http.Header{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-notoken":
			hasToken = false
			args = args[1:]
		case "-token", "-size", "-file", "-H", "-header":
			if len(args) < 2 {
				ts.Fatalf("http: %s needs a value", args[0])
			}
			switch args[0] {
			case "-token":
				token = args[1]
			case "-file":
				body = bytes.NewReader([]byte(ts.ReadFile(args[1])))
			case "-H":
				k, v, ok := strings.Cut(args[1], ":")
				if !ok {
					ts.Fatalf("http: -H %q: want 'Name: value'", args[1])
				}
				header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			case "-header":
				k, v, ok := strings.Cut(args[1], "=")
				if !ok {
					ts.Fatalf("http: -header NAME=VALUE")
				}
				header.Add(k, v)
			case "-size":
				n, err := strconv.Atoi(args[1])
				if err != nil {
					ts.Fatalf("http: -size %s", args[1])
				}
				body = bytes.NewReader(bytes.Repeat([]byte("x"), n))
			}
			args = args[2:]
		default:
			ts.Fatalf("http: unknown flag %s", args[0])
		}
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: http [-token T | -notoken] [-size N | -file FILE] [-H 'Name: value']... METHOD PATH [DATA]")
	}
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(args[0], ts.Getenv("SERVER")+args[1], body)
	if err != nil {
		ts.Fatalf("http: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if hasToken {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.Fatalf("http: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var hb strings.Builder
	fmt.Fprintf(&hb, "HTTP %d\n", resp.StatusCode)
	var lines []string
	for k, vs := range resp.Header {
		lines = append(lines, k+": "+strings.Join(vs, ", "))
	}
	sort.Strings(lines)
	hb.WriteString(strings.Join(lines, "\n") + "\n")
	ts.Logf("%s %s → %d", args[0], args[1], resp.StatusCode)
	ts.Check(os.WriteFile(ts.MkAbs("http.headers"), []byte(hb.String()), 0o600))
	// The body is what the next stdout check reads.
	ts.Check(os.WriteFile(ts.MkAbs("http.body"), b, 0o600))
	if err := ts.Exec("cat", "http.body"); err != nil {
		ts.Fatalf("http: %v", err)
	}
	if failed := resp.StatusCode >= 400; failed != neg {
		ts.Fatalf("http: %s %s answered %d:\n%s", args[0], args[1], resp.StatusCode, b)
	}
}

// cmdTermServer sends SIGTERM to the `faas serve` recorded in
// $FAAS_HOME/run/serve.json (testscript's kill knows only INT and KILL).
func cmdTermServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: termserver")
	}
	var st struct {
		PID int `json:"pid"`
	}
	b, err := os.ReadFile(filepath.Join(ts.Getenv("FAAS_HOME"), "run", "serve.json"))
	if err != nil || json.Unmarshal(b, &st) != nil || st.PID <= 0 {
		ts.Fatalf("termserver: no server recorded: %v", err)
	}
	ts.Check(syscall.Kill(st.PID, syscall.SIGTERM))
}

// cmdWaitRefused waits until $SERVER refuses connections: a stopping
// server has closed its listener.
func cmdWaitRefused(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitrefused")
	}
	addr := strings.TrimPrefix(ts.Getenv("SERVER"), "http://")
	deadline := time.Now().Add(time.Minute)
	for ; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
	}
	ts.Fatalf("waitrefused: %s still takes connections after a minute", addr)
}
