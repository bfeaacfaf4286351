package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEmbedListens(t *testing.T) {
	auth := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(auth, []byte("w:secretpassword\n"), 0o600)
	for _, o := range []EmbedOptions{{}, {Listen: "127.0.0.1:0", AuthFile: auth}} {
		ns, err := Embed(o)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := ConnectInProcess(ns, "t")
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		t.Logf("url %q", ListenURL(ns))
		ns.Shutdown()
	}
}
