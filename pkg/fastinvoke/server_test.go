package fastinvoke

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
)

func TestProtocolIsClients(t *testing.T) {
	m, p, body, name, a, d, i, sig := cProtocol()
	if m != magic || p != prefix || body != maxBody || name != maxName || a != accept || d != decline || i != interrupt || sig != Signal {
		t.Fatalf("client.c's protocol %q %q %d %d %c %c %q %d differs from protocol.go's", m, p, body, name, a, d, i, sig)
	}
	if s := cSpareSocket(); s != spareSocket {
		t.Fatalf("client.c's spare socket %q differs from protocol.go's %q", s, spareSocket)
	}
}

func TestFunctionIsClients(t *testing.T) {
	long := strings.Repeat("a", maxName)
	for _, tc := range []struct {
		args []string
		name string
	}{
		{[]string{"invoke", "hello"}, "hello"},
		{[]string{"invoke", "hello", "-d", `{"a":1}`}, "hello"},
		{[]string{"invoke", "-d", "x", "hello"}, "hello"},
		{[]string{"invoke", "--data", "x", "hello", "-o", "json"}, "hello"},
		{[]string{"invoke", "--data=x", "--output=json", "--timeout=3s", "h-1"}, "h-1"},
		{[]string{"invoke", "hello", "--timeout", "-1s"}, "hello"},
		{[]string{"invoke", "hello", "-d", "-o"}, "hello"},
		{[]string{"invoke", long}, long},
		{[]string{"invoke", long + "a"}, ""},
		{[]string{"invoke", "hello", "-d", "@file"}, ""},
		{[]string{"invoke", "hello", "-d", "@-"}, ""},
		{[]string{"invoke", "hello", "--data=@file"}, ""},
		{[]string{"invoke", "hello", "-d=x"}, ""},
		{[]string{"invoke", "hello", "-dx"}, ""},
		{[]string{"invoke", "hello", "-d"}, ""},
		{[]string{"invoke", "hello", "--async"}, ""},
		{[]string{"invoke", "hello", "--debug"}, ""},
		{[]string{"invoke", "hello", "-h"}, ""},
		{[]string{"invoke", "hello", "--"}, ""},
		{[]string{"invoke", "hello", "-"}, ""},
		{[]string{"invoke", "hello", "other"}, ""},
		{[]string{"invoke"}, ""},
		{[]string{"invoke", ""}, ""},
		{[]string{"invoke", "1abc"}, ""},
		{[]string{"invoke", "abc-"}, ""},
		{[]string{"invoke", "a_b"}, ""},
		{[]string{"invoke", "../x"}, ""},
		{[]string{"invoke", "héllo"}, ""},
	} {
		name, ok := Function(tc.args)
		if name != tc.name && ok || ok != (tc.name != "") {
			t.Errorf("Function(%q) = %q, %v; want %q", tc.args, name, ok, tc.name)
		}
		cname, cok := cFunction(tc.args)
		if cok != ok || cok && cname != name {
			t.Errorf("client.c judges %q %q, %v; Function %q, %v", tc.args, cname, cok, name, ok)
		}
	}
	if _, ok := Function([]string{"jobs", "hello"}); ok {
		t.Error("Function took `faas jobs`")
	}
}

// handler records what it was given.
type handler struct {
	accept bool
	run    func(ctx context.Context, c *Call) int
	calls  chan *Call
}

func (h *handler) Accept(c *Call) bool { return h.accept }
func (h *handler) Run(ctx context.Context, c *Call) int {
	h.calls <- c
	return h.run(ctx, c)
}

func serve(t *testing.T, h Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	s, err := NewServer(l, h)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { s.Close() })
	return path
}

func request(args, env []string) []byte {
	put := func(b []byte, ss []string) []byte {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(ss)))
		for _, s := range ss {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		return b
	}
	body := put(put(nil, args), env)
	b := append([]byte(magic), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(b, body...)
}

// dial sends req as client.c does, with files attached, and returns the
// connection and its first answer byte (0 when none came).
func dial(t *testing.T, path string, req []byte, files ...*os.File) (*net.UnixConn, byte) {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var fds []int
	for _, f := range files {
		fds = append(fds, int(f.Fd()))
	}
	if _, _, err := c.WriteMsgUnix(req, syscall.UnixRights(fds...), nil); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if n, _ := c.Read(b[:]); n == 0 {
		return c, 0
	}
	return c, b[0]
}

func code(t *testing.T, c *net.UnixConn) int {
	t.Helper()
	var b [4]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Fatalf("no exit code: %v", err)
	}
	return int(binary.LittleEndian.Uint32(b[:]))
}

func streams(t *testing.T) (in, out, errOut *os.File, readOut *os.File) {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	inW.WriteString("the payload")
	inW.Close()
	t.Cleanup(func() { inR.Close(); outR.Close(); outW.Close() })
	return inR, outW, outW, outR
}

func TestServerRunsACallOnTheClientsStreams(t *testing.T) {
	h := &handler{accept: true, calls: make(chan *Call, 1), run: func(ctx context.Context, c *Call) int {
		b, _ := io.ReadAll(c.Stdin)
		c.Stdout.WriteString("read " + string(b) + " for " + c.Getenv("WHO"))
		return 124
	}}
	path := serve(t, h)
	in, out, errOut, readOut := streams(t)
	args := []string{"invoke", "hello", "-d", "x"}
	c, ack := dial(t, path, request(args, []string{"WHO=ada", "PATH=/bin"}), in, out, errOut)
	if ack != accept {
		t.Fatalf("answer %q, want accept", ack)
	}
	if got := code(t, c); got != 124 {
		t.Fatalf("exit code %d, want 124", got)
	}
	call := <-h.calls
	if strings.Join(call.Args, " ") != strings.Join(args, " ") || call.PID != os.Getpid() {
		t.Fatalf("call %q from %d", call.Args, call.PID)
	}
	// The server has closed its copies: the reader sees the end once the
	// client closes its own.
	out.Close()
	b, err := io.ReadAll(readOut)
	if err != nil || string(b) != "read the payload for ada" {
		t.Fatalf("stdout %q, %v", b, err)
	}
}

func TestServerDeclinesWithoutRunning(t *testing.T) {
	h := &handler{accept: false, calls: make(chan *Call, 1)}
	path := serve(t, h)
	in, out, errOut, _ := streams(t)
	if _, ack := dial(t, path, request([]string{"invoke", "x"}, nil), in, out, errOut); ack != decline {
		t.Fatalf("answer %q, want decline", ack)
	}
	// Nothing of stdin was read: the client's full path still has it.
	b, _ := io.ReadAll(in)
	if string(b) != "the payload" {
		t.Fatalf("stdin left %q", b)
	}
}

func TestServerRefusesBadRequests(t *testing.T) {
	h := &handler{accept: true, calls: make(chan *Call, 1)}
	path := serve(t, h)
	in, out, errOut, _ := streams(t)
	good := request([]string{"invoke", "x"}, nil)
	huge := append([]byte(magic), binary.LittleEndian.AppendUint32(nil, maxBody+1)...)
	lying := append([]byte(magic), binary.LittleEndian.AppendUint32(nil, 12)...)
	lying = append(lying, binary.LittleEndian.AppendUint32(nil, 1<<30)...)
	lying = append(lying, make([]byte, 8)...)
	for name, tc := range map[string]struct {
		req   []byte
		files []*os.File
	}{
		"no streams":  {good, nil},
		"two streams": {good, []*os.File{in, out}},
		"not faas":    {append([]byte("GET / HTTP/1.1\r\n"), make([]byte, 8)...), []*os.File{in, out, errOut}},
		"too large":   {huge, []*os.File{in, out, errOut}},
		"lying count": {lying, []*os.File{in, out, errOut}},
	} {
		if _, ack := dial(t, path, tc.req, tc.files...); ack != 0 {
			t.Errorf("%s: answered %q", name, ack)
		}
	}
	select {
	case c := <-h.calls:
		t.Fatalf("ran %q", c.Args)
	default:
	}
}

func TestServerEndsACall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		end   func(*net.UnixConn)
		cause error
	}{
		{"interrupted", func(c *net.UnixConn) { c.Write([]byte(interrupt)) }, context.Canceled},
		{"killed", func(c *net.UnixConn) { c.Close() }, faastype.ErrCallerGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			causes := make(chan error, 1)
			h := &handler{accept: true, calls: make(chan *Call, 1), run: func(ctx context.Context, c *Call) int {
				<-ctx.Done()
				causes <- context.Cause(ctx)
				return 130
			}}
			path := serve(t, h)
			in, out, errOut, _ := streams(t)
			c, ack := dial(t, path, request([]string{"invoke", "x"}, nil), in, out, errOut)
			if ack != accept {
				t.Fatalf("answer %q", ack)
			}
			<-h.calls
			tc.end(c)
			if got := <-causes; !errors.Is(got, tc.cause) {
				t.Fatalf("cause %v, want %v", got, tc.cause)
			}
			if tc.cause == context.Canceled && code(t, c) != 130 {
				t.Fatal("no 130")
			}
		})
	}
}

func TestListenReplacesAStaleSocketButNotALiveOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); !errors.Is(err, ErrTaken) {
		t.Fatalf("second listener: %v, want ErrTaken", err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	l2, err := Listen(path)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	l2.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left after close: %v", err)
	}
	if SocketPath(strings.Repeat("/d", 50), "f") != "" {
		t.Fatal("a path over the limit")
	}
}
