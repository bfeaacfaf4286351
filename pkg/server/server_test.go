package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
	_ "github.com/faasdev/faas/pkg/provider/local"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// The test binary doubles as faas for the agents the local provider starts.
func TestMain(m *testing.M) { scripttest.DoubleAsFaas(m) }

// start serves a fresh engine on a loopback port with one token per
// owner; it returns the base URL.
func start(tb testing.TB, owners ...string) (string, *engine.Engine, map[string]string) {
	ctx, cancel := context.WithCancel(context.Background())
	e, err := cmdutil.OpenEngine(ctx, tb.TempDir(), sqlite.BackgroundCheckpoints(500*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tokens := map[string]string{}
	for _, o := range owners {
		tok := "faas_test_" + o
		if err := e.CreateToken(ctx, o, server.HashToken(tok)); err != nil {
			tb.Fatal(err)
		}
		tokens[o] = tok
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.New(server.Options{Engine: e, PerOwner: 1 << 20}).Serve(ctx, ln, "", "") }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
		// Removing a function stops its agents.
		fns, _ := e.Functions(context.Background())
		for _, f := range fns {
			_ = e.Remove(context.Background(), f.Name)
		}
		e.Close()
	})
	return "http://" + ln.Addr().String(), e, tokens
}

func do(tb testing.TB, c *http.Client, method, url, token string, body []byte) (*http.Response, []byte) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// BenchmarkServeInvoke is a synchronous invoke through the whole server:
// HTTP, the token, the engine and SQLite, the agent, in parallel.
func BenchmarkServeInvoke(b *testing.B) {
	base, e, tokens := start(b, "bench")
	code := []byte("def handler(event, context):\n    return event\n")
	cfg := function.DefaultConfig()
	cfg.MaxInstances, cfg.Concurrency = 2, 2
	if _, err := e.As("bench").Deploy(context.Background(), engine.DeployRequest{Filename: "noop.py", Code: code, Config: cfg}); err != nil {
		b.Fatal(err)
	}
	url := base + "/v1/functions/noop/invoke"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	if resp, body := do(b, c, http.MethodPost, url, tokens["bench"], []byte(`{}`)); resp.StatusCode != 200 {
		b.Fatalf("%s %s", resp.Status, body)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, body := do(b, c, http.MethodPost, url, tokens["bench"], []byte(`{"n":1}`))
			if resp.StatusCode != 200 || resp.Header.Get("X-Faas-Status") != "completed" {
				b.Fatalf("%s %s %s", resp.Status, resp.Header.Get("X-Faas-Error"), body)
			}
		}
	})
}

// A JSON deploy (code in base64) takes faas deploy's defaults for what it
// leaves out; a long poll returns when the async job ends.
func TestJSONDeployAndLongPoll(t *testing.T) {
	base, _, tokens := start(t, "ada")
	c := &http.Client{}
	body := []byte(`{"filename": "hello.py", "code": "` + base64.StdEncoding.EncodeToString([]byte("def handler(event, context):\n    return 'hi ' + event['n']\n")) + `", "config": {"memory_mb": 128}}`)
	resp, b := do(t, c, http.MethodPost, base+"/v1/functions", tokens["ada"], body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %s %s", resp.Status, b)
	}
	var d api.Deployed
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	def := function.DefaultConfig()
	if d.Function.Name != "hello" || d.Function.Owner != "ada" || d.Function.MemoryMB != 128 || d.Function.TimeoutMS != def.TimeoutMS || d.Function.Runtime != "python" || !d.Created {
		t.Fatalf("deployed %+v", d)
	}
	// The same again is unchanged: 200, not 201.
	if resp, b := do(t, c, http.MethodPost, base+"/v1/functions", tokens["ada"], body); resp.StatusCode != http.StatusOK {
		t.Fatalf("redeploy: %s %s", resp.Status, b)
	}
	resp, b = do(t, c, http.MethodPost, base+"/v1/functions/hello/invoke?async=true", tokens["ada"], []byte(`{"n": "there"}`))
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("async: %s %s", resp.Status, b)
	}
	var q api.Queued
	if err := json.Unmarshal(b, &q); err != nil || q.Status != "waiting" {
		t.Fatalf("queued %s: %v", b, err)
	}
	resp, b = do(t, c, http.MethodGet, base+"/v1/jobs/"+q.JobID+"?wait=30s", tokens["ada"], nil)
	var j api.Job
	if err := json.Unmarshal(b, &j); err != nil || resp.StatusCode != 200 || j.Status != "completed" || j.Result == nil || *j.Result != "hi there" {
		t.Fatalf("long poll: %s %s %v", resp.Status, b, err)
	}
	// Bad input is a 400 with its kind, and changes nothing.
	for _, bad := range []string{`{"filename": "x.py"`, `{"code": "aGk="}`, `{"filename": "bad name.py", "code": "aGk="}`} {
		resp, b := do(t, c, http.MethodPost, base+"/v1/functions", tokens["ada"], []byte(bad))
		var e api.Error
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Kind != "usage" {
			t.Errorf("deploy %s: %s %s", bad, resp.Status, b)
		}
	}
	resp, b = do(t, c, http.MethodGet, base+"/v1/functions", tokens["ada"], nil)
	var fns []api.Function
	if err := json.Unmarshal(b, &fns); err != nil || len(fns) != 1 {
		t.Fatalf("functions after bad deploys: %s", b)
	}
}

// With a certificate the server speaks HTTPS, and tokens work as over HTTP.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "faas test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	e, err := cmdutil.OpenEngine(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.CreateToken(ctx, "ada", server.HashToken("faas_tls")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.New(server.Options{Engine: e}).Serve(ctx, ln, certFile, keyFile) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + ln.Addr().String()
	if resp, b := do(t, c, http.MethodGet, url+"/v1/functions", "faas_tls", nil); resp.StatusCode != 200 || resp.TLS == nil || string(bytes.TrimSpace(b)) != "[]" {
		t.Fatalf("over TLS: %s %s", resp.Status, b)
	}
	if resp, _ := do(t, c, http.MethodGet, url+"/v1/functions", "faas_wrong", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token over TLS: %s", resp.Status)
	}
	// Plain HTTP to the TLS port is refused by the server.
	if resp, _ := do(t, &http.Client{}, http.MethodGet, "http://"+ln.Addr().String()+"/healthz", "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the TLS port: %s", resp.Status)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Two owners hammer one server with sync and async invokes at once: every
// call is one job of its owner, and each owner's bill is exactly the sum of
// its jobs' costs (group commit loses and mixes nothing).
func TestConcurrentOwnersLoseNothing(t *testing.T) {
	base, e, tokens := start(t, "ada", "bob")
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	code := []byte("def handler(event, context):\n    return event\n")
	for _, o := range []string{"ada", "bob"} {
		cfg := function.DefaultConfig()
		cfg.MaxInstances, cfg.Concurrency = 2, 2
		if _, err := e.As(o).Deploy(context.Background(), engine.DeployRequest{Name: "echo-" + o, Filename: "echo.py", Code: code, Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	const perWorker, workers = 15, 4
	var wg sync.WaitGroup
	ids := map[string][]string{}
	var mu sync.Mutex
	for _, o := range []string{"ada", "bob"} {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWorker {
					url := base + "/v1/functions/echo-" + o + "/invoke"
					if i%3 == 0 {
						url += "?async=true"
					}
					resp, b := do(t, c, http.MethodPost, url, tokens[o], []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)))
					if resp.StatusCode != 200 && resp.StatusCode != 202 {
						t.Errorf("%s: %s %s", o, resp.Status, b)
						return
					}
					mu.Lock()
					ids[o] = append(ids[o], resp.Header.Get("X-Faas-Job-Id"))
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for _, o := range []string{"ada", "bob"} {
		if len(ids[o]) != perWorker*workers {
			t.Fatalf("%s: %d answers", o, len(ids[o]))
		}
		var sum int64
		for _, id := range ids[o] {
			resp, b := do(t, c, http.MethodGet, base+"/v1/jobs/"+id+"?wait=30s", tokens[o], nil)
			var j api.Job
			if err := json.Unmarshal(b, &j); err != nil || resp.StatusCode != 200 || j.Status != "completed" || j.Owner != o {
				t.Fatalf("%s job %s: %s %s", o, id, resp.Status, b)
			}
			sum += j.CostPico
		}
		resp, b := do(t, c, http.MethodGet, base+"/v1/bill", tokens[o], nil)
		var bill api.Bill
		if err := json.Unmarshal(b, &bill); err != nil || resp.StatusCode != 200 {
			t.Fatalf("bill: %s %s", resp.Status, b)
		}
		if bill.Total.Invocations != perWorker*workers || bill.Total.TotalPico != sum || len(bill.Functions) != 1 || bill.Functions[0].Function != "echo-"+o {
			t.Errorf("%s: bill %+v, jobs' costs sum to %d", o, bill.Total, sum)
		}
		resp, b = do(t, c, http.MethodGet, base+"/v1/jobs?limit=0", tokens[o], nil)
		var js []api.Job
		if err := json.Unmarshal(b, &js); err != nil || len(js) != perWorker*workers {
			t.Errorf("%s: %d jobs listed (%s)", o, len(js), resp.Status)
		}
	}
}

// TestMetricsAreTheScrapersOwn: an owner's /metrics counts that owner's
// calls and nobody else's.
func TestMetricsAreTheScrapersOwn(t *testing.T) {
	base, _, tokens := start(t, "ada", "bob")
	c := &http.Client{}
	code := base64.StdEncoding.EncodeToString([]byte("def handler(event, context):\n    return 'hi'\n"))
	calls := map[string]int{"ada": 3, "bob": 1}
	for owner, n := range calls {
		body := []byte(`{"name": "` + owner + `-fn", "filename": "f.py", "code": "` + code + `"}`)
		if resp, b := do(t, c, http.MethodPost, base+"/v1/functions", tokens[owner], body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("deploy: %s %s", resp.Status, b)
		}
		for range n {
			if resp, b := do(t, c, http.MethodPost, base+"/v1/functions/"+owner+"-fn/invoke", tokens[owner], nil); resp.StatusCode != 200 {
				t.Fatalf("invoke: %s %s", resp.Status, b)
			}
		}
	}
	for owner, n := range calls {
		_, b := do(t, c, http.MethodGet, base+"/metrics", tokens[owner], nil)
		want := fmt.Sprintf("faas_invocations_total{status=\"completed\"} %d\n", n)
		// The series, without their help texts (Go's own say "metadata").
		var series strings.Builder
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasPrefix(line, "# HELP ") {
				series.WriteString(line)
			}
		}
		if !strings.Contains(string(b), want) || strings.Contains(series.String(), "ada") || strings.Contains(series.String(), "bob") {
			t.Errorf("%s's scrape lacks %q (or names someone):\n%s", owner, want, b)
		}
	}
}
