package server_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// A token revoked through one home's faas is refused by a server of
// another home on the same records (as a server on another host of a
// shared PostgreSQL) within server.TokensTTL, though that server's own
// stamp file never changes.
func TestRevokedElsewhereRefusedWithinTTL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := engine.New(t.TempDir(), st)
	b := engine.New(t.TempDir(), st)
	const tok = "faas_test_ada"
	if err := a.CreateToken(ctx, "ada", server.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.New(server.Options{Engine: b}).Serve(ctx, ln, "", "") }()
	defer func() { cancel(); <-done }()
	url := "http://" + ln.Addr().String() + "/v1/functions"
	if resp, body := do(t, http.DefaultClient, "GET", url, tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the revocation: %d %s", resp.StatusCode, body)
	}
	if err := a.RevokeToken(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		resp, _ := do(t, http.DefaultClient, "GET", url, tok, nil)
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Since(revoked) > server.TokensTTL+5*time.Second {
			t.Fatalf("the other home's server still takes the revoked token %v later", time.Since(revoked))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(revoked); took > server.TokensTTL+2*time.Second {
		t.Errorf("refused %v after the revocation; want within %v (and a little)", took, server.TokensTTL)
	} else {
		t.Logf("refused %v after the revocation", took.Round(time.Millisecond))
	}
}
