package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/agent/api"
	"github.com/faasdev/faas/pkg/faastype"
)

// A kept-alive connection that the agent closed after answering (as an
// agent that exits when idle does) carries the next request on a new
// connection: the call succeeds, and the agent sees it once.
func TestUnixClientSendsAgainOnAConnectionClosedUnderIt(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var seen atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close() // one answer per connection, no "Connection: close"
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				seen.Add(1)
				body := fmt.Sprintf(`{"status":"completed","result":"b2s=","worker":%q}`, req.Header.Get("X-Idempotency-Key"))
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
		}
	}()
	c := New("unix:"+sock, "tok")
	defer c.Close()
	for i, id := range []string{"j1", "j2", "j3"} {
		out, err := c.Invoke(context.Background(), api.InvokeRequest{JobID: id})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if out.Worker != id || string(out.Result) != "ok" {
			t.Fatalf("call %d: %+v", i, out)
		}
	}
	if n := seen.Load(); n != 3 {
		t.Fatalf("the agent saw %d requests for 3 calls", n)
	}
}

// The caller going breaks the connection, which is how the agent learns to
// stop the function; an agent that cannot be dialled is gone.
func TestUnixClientHangsUpWhenTheCallerGoes(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stopped, arrived := make(chan struct{}), make(chan struct{})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then net/http watches the connection
		close(arrived)
		<-r.Context().Done()
		close(stopped)
	})}
	go hs.Serve(ln) //nolint:errcheck // closed below
	defer hs.Close()
	c := New("unix:"+sock, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived // the call is with the agent: now the caller goes
		cancel()
	}()
	if _, err := c.Invoke(ctx, api.InvokeRequest{JobID: "j"}); err == nil || ctx.Err() == nil {
		t.Fatalf("Invoke returned %v with ctx %v", err, ctx.Err())
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent never saw the caller go")
	}
	gone := New("unix:"+filepath.Join(t.TempDir(), "none.sock"), "")
	if _, err := gone.Invoke(context.Background(), api.InvokeRequest{JobID: "j"}); !errors.Is(err, faastype.ErrGone) {
		t.Fatalf("a missing agent: %v, want ErrGone", err)
	}
}
