package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/nats-io/nuid"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// MaxPayload is the embedded server's message limit: a 6 MiB payload or
// result and its envelope fit (NATS' default is 1 MiB).
const MaxPayload = 8 << 20

// EmbedOptions configure the NATS server `faas serve` embeds.
type EmbedOptions struct {
	// Listen is HOST:PORT for other hosts' workers; "" serves this process
	// only (no socket at all).
	Listen string
	// AuthFile lists who may connect from other hosts: "user:password"
	// lines and nkey public keys (U…), one a line; required with Listen.
	AuthFile string
	// TLSCert and TLSKey, when set, make the listener TLS only.
	TLSCert, TLSKey string
}

// Embedded is a running embedded NATS server.
type Embedded struct {
	*server.Server
	// user and pass are the server process' own account, where others
	// must authenticate.
	user, pass string
}

// Embed starts an in-process NATS server and waits until it takes
// connections.
func Embed(o EmbedOptions) (*Embedded, error) {
	e := &Embedded{}
	opts := &server.Options{ServerName: "faas", DontListen: o.Listen == "", Host: "127.0.0.1", Port: -1,
		MaxPayload: MaxPayload, NoSigs: true, NoLog: true}
	if o.Listen != "" {
		if o.AuthFile == "" {
			return nil, fault.WithHint(fault.Usagef("--nats-listen %s needs --nats-auth: workers on other hosts must authenticate", o.Listen),
				"write \"user:password\" lines or nkey public keys to a file (mode 0600) and pass --nats-auth FILE")
		}
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fault.Usagef("--nats-listen %q: %v: use HOST:PORT", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fault.Usagef("--nats-listen %q: bad port", o.Listen)
		}
		if p == 0 {
			p = -1 // any free port
		}
		opts.Host, opts.Port = host, p
		users, nkeyUsers, err := readAuthFile(o.AuthFile)
		if err != nil {
			return nil, err
		}
		// The server's own in-process connection authenticates too.
		e.user, e.pass = "faas-serve-"+nuid.Next(), nuid.Next()+nuid.Next()
		users = append(users, &server.User{Username: e.user, Password: e.pass})
		opts.Users, opts.Nkeys = users, nkeyUsers
		if o.TLSCert != "" {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLSCert, KeyFile: o.TLSKey})
			if err != nil {
				return nil, fault.Usagef("--nats-tls-cert: %v", err)
			}
			opts.TLSConfig, opts.TLS = tc, true
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fault.Platformf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fault.Platformf("embedded NATS did not start within 10s (is %s free?)", o.Listen)
	}
	e.Server = ns
	return e, nil
}

// ListenURL is the embedded server's URL for other hosts ("" when it
// does not listen).
func ListenURL(ns *Embedded) string {
	if ns.user == "" || ns.Addr() == nil {
		return ""
	}
	return ns.ClientURL()
}

// readAuthFile reads "user:password" lines and nkey public keys.
func readAuthFile(path string) ([]*server.User, []*server.NkeyUser, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fault.Usagef("--nats-auth: %v", err)
	}
	var users []*server.User
	var nk []*server.NkeyUser
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if nkeys.IsValidPublicUserKey(line) {
			nk = append(nk, &server.NkeyUser{Nkey: line})
			continue
		}
		user, pass, ok := strings.Cut(line, ":")
		if !ok || user == "" || len(pass) < 8 {
			return nil, nil, fault.Usagef("%s:%d: want user:password (a password of 8 characters or more) or an nkey public key (U…)", path, n)
		}
		users = append(users, &server.User{Username: user, Password: pass})
	}
	if len(users) == 0 && len(nk) == 0 {
		return nil, nil, fault.Usagef("%s names nobody: add user:password lines or nkey public keys", path)
	}
	return users, nk, nil
}

// ConnectOptions say how to reach an external NATS server (or the one a
// server embeds and listens with).
type ConnectOptions struct {
	URL string
	// UserFile holds "user:password" (its first line).
	UserFile string
	// NkeySeed is a file with an nkey seed (SU…).
	NkeySeed string
	// Creds is a NATS credentials file (JWT and seed).
	Creds string
	// CA is a PEM file of the CA that signed the server's certificate.
	CA string
	// Name names the connection in the server's monitoring.
	Name string
}

// Connect connects to NATS and keeps reconnecting for ever.
func Connect(o ConnectOptions) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.PingInterval(time.Second), nats.MaxPingsOutstanding(3)}
	switch {
	case o.Creds != "":
		opts = append(opts, nats.UserCredentials(o.Creds))
	case o.NkeySeed != "":
		opt, err := nats.NkeyOptionFromSeed(o.NkeySeed)
		if err != nil {
			return nil, fault.Usagef("--nats-nkey %s: %v", o.NkeySeed, err)
		}
		opts = append(opts, opt)
	case o.UserFile != "":
		b, err := os.ReadFile(o.UserFile)
		if err != nil {
			return nil, fault.Usagef("--nats-user-file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		user, pass, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			return nil, fault.Usagef("%s: want user:password on its first line", o.UserFile)
		}
		opts = append(opts, nats.UserInfo(user, pass))
	}
	if o.CA != "" {
		opts = append(opts, nats.RootCAs(o.CA))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fault.WithHint(fault.Platformf("connect to NATS at %s: %v", o.URL, err),
			"check the URL and the credentials (--nats-user-file, --nats-nkey or --nats-creds)")
	}
	return nc, nil
}

// ConnectInProcess connects to an embedded server without a socket.
func ConnectInProcess(ns *Embedded, name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.InProcessServer(ns.Server), nats.Name(name), nats.MaxReconnects(-1)}
	if ns.user != "" {
		opts = append(opts, nats.UserInfo(ns.user, ns.pass))
	}
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fault.Platformf("connect to the embedded NATS: %w", err)
	}
	return nc, nil
}

// fitPayload checks that a message fits the connection's limit.
func fitPayload(nc *nats.Conn, b []byte) error {
	if limit := nc.MaxPayload(); limit > 0 && int64(len(b)) > limit {
		return fmt.Errorf("a %d-byte message is over NATS' max_payload (%d): raise max_payload to %d on the NATS server", len(b), limit, MaxPayload)
	}
	return nil
}

// noCode is inv as it is sent: without its code, which the worker has by
// sha256 or fetches.
func noCode(inv faastype.Invocation) faastype.Invocation {
	inv.Code = nil
	return inv
}
