package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

func TestSecretsAreSealedPerOwnerAndName(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	alice, bob := e.As("alice"), e.As("bob")
	value := []byte("hunter2 with\x00bytes")
	if created, err := alice.SetSecret(ctx, "db", value); err != nil || !created {
		t.Fatalf("SetSecret = %v, %v", created, err)
	}
	secs, err := e.store.GetSecrets(ctx, "alice", []string{"db"})
	if err != nil || len(secs) != 1 {
		t.Fatalf("GetSecrets = %v, %v", secs, err)
	}
	if bytes.Contains(secs[0].Sealed, value) {
		t.Fatal("the store holds the plain value")
	}
	got, err := e.secretValues(ctx, "alice", []function.SecretRef{{Name: "db"}})
	if err != nil || !bytes.Equal(got["db"], value) {
		t.Fatalf("secretValues = %q, %v", got, err)
	}
	// Bob has no secret of that name: not found, not Alice's.
	if _, err := e.secretValues(ctx, "bob", []function.SecretRef{{Name: "db"}}); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("bob reading alice's secret: %v", err)
	}
	if ls, _ := bob.ListSecrets(ctx); len(ls) != 0 {
		t.Fatalf("bob lists %v", ls)
	}
	// A sealed value copied to another owner's or name's row does not open.
	moved := secs[0]
	moved.Owner = "bob"
	if _, err := e.open(moved); err == nil {
		t.Fatal("a sealed value opened under another owner")
	}
	moved = secs[0]
	moved.Name = "other"
	if _, err := e.open(moved); err == nil {
		t.Fatal("a sealed value opened under another name")
	}
	// Another key opens nothing.
	other := newEngine(t)
	if _, err := faashome.Secret(faashome.SecretsKey(other.Home)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(secs[0]); err == nil {
		t.Fatal("a sealed value opened with another key")
	}
}

func TestSecretLimits(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	for _, c := range []struct {
		name  string
		value []byte
	}{
		{"Bad", []byte("x")}, {"../x", []byte("x")}, {"ok", nil}, {"ok", make([]byte, function.MaxSecretBytes+1)},
	} {
		if _, err := e.SetSecret(ctx, c.name, c.value); fault.KindOf(err) != fault.Usage {
			t.Errorf("SetSecret(%q, %d bytes) = %v, want a usage error", c.name, len(c.value), err)
		}
	}
	if ls, _ := e.ListSecrets(ctx); len(ls) != 0 {
		t.Fatalf("bad input stored %v", ls)
	}
}

func TestKeptSecrets(t *testing.T) {
	base := []function.SecretRef{{Name: "a"}, {Name: "b", Env: "B"}}
	got := keptSecrets(base, []function.SecretRef{{Name: "b"}, {Name: "c", Env: "C"}}, []string{"a"})
	want := []function.SecretRef{{Name: "b"}, {Name: "c", Env: "C"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("keptSecrets = %v, want %v", got, want)
	}
}
