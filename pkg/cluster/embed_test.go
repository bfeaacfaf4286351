package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestEmbedListens: in-process only by default; with --nats-listen, other
// hosts connect only with the auth file's credentials.
func TestEmbedListens(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("w:secretpassword\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Embed(EmbedOptions{Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("listening without --nats-auth was allowed")
	}
	ns, err := Embed(EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ListenURL(ns) != "" {
		t.Errorf("the in-process server listens at %s", ListenURL(ns))
	}
	ns.Shutdown()
	ns, err = Embed(EmbedOptions{Listen: "127.0.0.1:0", AuthFile: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := ConnectInProcess(ns, "server")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	url := ListenURL(ns)
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatalf("connected to %s without credentials", url)
	}
	user := filepath.Join(dir, "user")
	if err := os.WriteFile(user, []byte("w:secretpassword\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nc, err = Connect(ConnectOptions{URL: url, UserFile: user})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}
