package egress

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

func TestAllowList(t *testing.T) {
	for _, c := range []struct {
		rules      []string
		host, port string
		want       bool
	}{
		{nil, "example.com", "443", false},
		{[]string{"*"}, "example.com", "443", true},
		{[]string{"example.com"}, "example.com", "443", true},
		{[]string{"example.com"}, "EXAMPLE.com.", "80", true},
		{[]string{"example.com:443"}, "example.com", "80", false},
		{[]string{"example.com"}, "api.example.com", "443", false},
		{[]string{"*.example.com"}, "api.example.com", "443", true},
		{[]string{"*.example.com"}, "badexample.com", "443", false},
		{[]string{"127.0.0.1"}, "127.0.0.1", "8080", true},
	} {
		if got := allowed(c.rules, c.host, c.port); got != c.want {
			t.Errorf("allowed(%q, %s:%s) = %v", c.rules, c.host, c.port, got)
		}
	}
}

// TestConnectTunnel: CONNECT to an allowed address tunnels bytes both ways;
// a private address is refused unless allowed, and an unlisted one always.
func TestConnectTunnel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }() // echo
		}
	}()
	addr := l.Addr().String()
	try := func(e *egress, target string) (string, net.Conn) {
		jail, agent := net.Pipe()
		go func() { _ = e.handle(agent) }()
		_, _ = io.WriteString(jail, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
		br := bufio.NewReader(jail)
		line, _ := br.ReadString('\n')
		for {
			h, err := br.ReadString('\n')
			if err != nil || h == "\r\n" {
				break
			}
		}
		return strings.TrimSpace(line), jail
	}
	status, c := try(&egress{allow: []string{"127.0.0.1"}, private: true}, addr)
	if status != "HTTP/1.1 200 Connection established" {
		t.Fatalf("allowed: %q", status)
	}
	_, _ = io.WriteString(c, "ping")
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("echo through the tunnel: %q %v", b, err)
	}
	c.Close()
	if status, c := try(&egress{allow: []string{"127.0.0.1"}}, addr); !strings.HasPrefix(status, "HTTP/1.1 403") {
		t.Errorf("private without the operator's leave: %q", status)
	} else {
		c.Close()
	}
	if status, c := try(&egress{allow: []string{"example.com"}, private: true}, addr); !strings.HasPrefix(status, "HTTP/1.1 403") {
		t.Errorf("unlisted: %q", status)
	} else {
		c.Close()
	}
}
