// Package egress is a jailed process's way out: an HTTP proxy (CONNECT
// for TLS and any TCP, absolute URLs for plain HTTP) that runs outside the
// jail and connects only where an allow-list says. A function with
// --network gets one from its agent; a dependency build gets one from the
// builder.
package egress

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/sandbox"
)

// The jail's init listens on the jail's own loopback and hands each
// connection over (sandbox.Jail.Egress); the process finds the proxy in
// HTTP_PROXY and HTTPS_PROXY, as Lambda functions in a VPC find theirs.
// Destinations that resolve to loopback, private or link-local addresses
// are refused unless the operator set FAAS_EGRESS_PRIVATE=1 for faas: a
// function (or a package's build script) must not reach the host's own
// services (a database on localhost, the faas API) or another owner's VM
// by naming them.

// ProxyEnv is what a jailed process with a network finds its proxy by.
func ProxyEnv() []string {
	u := "http://" + sandbox.EgressProxy
	// No NO_PROXY: the jail's own loopback holds nothing but the proxy,
	// so every address, 127.0.0.1 too, means the world outside.
	return []string{"HTTP_PROXY=" + u, "HTTPS_PROXY=" + u, "http_proxy=" + u, "https_proxy=" + u}
}

// egress is one jail's proxy.
type egress struct {
	allow   []string
	private bool
	dialer  net.Dialer
}

// Start starts the proxy of one jailed process, which may connect where
// allow says ("*" anywhere but private addresses; HOST, *.DOMAIN,
// HOST:PORT), and returns the end of its socket for the jail
// (sandbox.Jail.Egress); the proxy ends when the jail's end closes (its
// init exited). logf, when set, hears of refused connections.
func Start(allow []string, logf func(string, ...any)) (*os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ours := os.NewFile(uintptr(fds[0]), "egress")
	c, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, err
	}
	e := &egress{allow: allow, private: os.Getenv("FAAS_EGRESS_PRIVATE") == "1", dialer: net.Dialer{Timeout: 10 * time.Second}}
	go e.serve(c.(*net.UnixConn), logf)
	return os.NewFile(uintptr(fds[1]), "egress-jail"), nil
}

func (e *egress) serve(uc *net.UnixConn, logf func(string, ...any)) {
	defer uc.Close()
	buf, oob := make([]byte, 1), make([]byte, syscall.CmsgSpace(4))
	for {
		_, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil || oobn == 0 {
			return
		}
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			continue
		}
		fds, err := syscall.ParseUnixRights(&msgs[0])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			f := os.NewFile(uintptr(fd), "egress-conn")
			conn, err := net.FileConn(f)
			f.Close()
			if err == nil {
				go func() {
					if err := e.handle(conn); err != nil && logf != nil {
						logf("egress: %v", err)
					}
				}()
			}
		}
	}
}

// allowed says whether the allow-list lets a connection to host:port.
func allowed(rules []string, host, port string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range rules {
		if r == "*" {
			return true
		}
		rh, rp := r, ""
		if h, p, err := net.SplitHostPort(r); err == nil {
			rh, rp = h, p
		}
		if rp != "" && rp != port {
			continue
		}
		if rh == host || strings.HasPrefix(rh, "*.") && strings.HasSuffix(host, rh[1:]) {
			return true
		}
	}
	return false
}

// dial connects to host:port when the rules allow it, refusing private
// destinations unless the operator allowed them.
func (e *egress) dial(ctx context.Context, hostport string) (net.Conn, int, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !allowed(e.allow, host, port) {
		return nil, http.StatusForbidden, fmt.Errorf("%s is not in this function's --network", hostport)
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return nil, http.StatusBadGateway, fmt.Errorf("resolve %s: %v", host, err)
	}
	ip := ips[0].IP
	if !e.private && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) {
		return nil, http.StatusForbidden, fmt.Errorf("%s is a private address (%s): set FAAS_EGRESS_PRIVATE=1 for the agents to allow it", hostport, ip)
	}
	c, err := e.dialer.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, http.StatusBadGateway, err
	}
	return c, 0, nil
}

func refuse(w io.Writer, code int, err error) error {
	msg := "faas: " + err.Error() + "\n"
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(msg), msg)
	return err
}

// handle serves one connection from the jail: a CONNECT tunnel, or one
// plain HTTP request with an absolute URL.
func (e *egress) handle(conn net.Conn) error {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if req.Method == http.MethodConnect {
		out, code, err := e.dial(ctx, req.Host)
		if err != nil {
			return refuse(conn, code, err)
		}
		defer out.Close()
		if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			return err
		}
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			if _, err := out.Write(b); err != nil {
				return err
			}
		}
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(out, conn); done <- struct{}{} }()
		go func() { _, _ = io.Copy(conn, out); done <- struct{}{} }()
		<-done
		return nil
	}
	if req.URL.Scheme != "http" || req.URL.Host == "" {
		return refuse(conn, http.StatusBadRequest, fmt.Errorf("the proxy takes CONNECT, or an absolute http:// URL"))
	}
	hostport := req.URL.Host
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "80")
	}
	out, code, err := e.dial(ctx, hostport)
	if err != nil {
		return refuse(conn, code, err)
	}
	defer out.Close()
	req.RequestURI = ""
	req.Close = true
	req.Header.Del("Proxy-Connection")
	if err := req.Write(out); err != nil {
		return refuse(conn, http.StatusBadGateway, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(out), req)
	if err != nil {
		return refuse(conn, http.StatusBadGateway, err)
	}
	defer resp.Body.Close()
	resp.Close = true
	return resp.Write(conn)
}
