package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/logging"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// TestRequestLinesAreJSON: with --log-format json each request is one
// JSON line, an invoke's with its job's id.
func TestRequestLinesAreJSON(t *testing.T) {
	ctx := context.Background()
	e, err := cmdutil.OpenEngine(ctx, t.TempDir(), sqlite.BackgroundCheckpoints(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CreateToken(ctx, "ada", server.HashToken("faas_log")); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	ts := httptest.NewServer(server.New(server.Options{Engine: e, Log: logging.New(&out, logging.JSON)}).Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = e.Remove(context.Background(), "lg")
		e.Close()
	})
	c := ts.Client()
	code := base64.StdEncoding.EncodeToString([]byte("def handler(event, context):\n    return 'hi'\n"))
	if resp, b := do(t, c, http.MethodPost, ts.URL+"/v1/functions", "faas_log", []byte(`{"name": "lg", "filename": "f.py", "code": "`+code+`"}`)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %s %s", resp.Status, b)
	}
	resp, _ := do(t, c, http.MethodPost, ts.URL+"/v1/functions/lg/invoke", "faas_log", nil)
	id := resp.Header.Get("X-Faas-Job-Id")
	if id == "" {
		t.Fatal("the invoke answered no job id")
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	var invoke map[string]any
	for _, l := range lines {
		if l["path"] == "/v1/functions/lg/invoke" {
			invoke = l
		}
	}
	if invoke == nil || invoke["job_id"] != id || invoke["msg"] != "request" || invoke["code"] != float64(200) || invoke["owner"] != "ada" {
		t.Fatalf("the invoke's line is %v, want one with job_id %s; all lines: %v", invoke, id, lines)
	}
}
