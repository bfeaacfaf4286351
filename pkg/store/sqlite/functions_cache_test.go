package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// A server keeps the functions it reads; what another process (another
// store on the same home) deploys, rolls back or removes is seen at the
// next read all the same.
func TestFunctionReadsSeeOtherProcessesChanges(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	server, err := sqlite.Open(ctx, home, sqlite.BackgroundCheckpoints(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cli, err := sqlite.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now := time.Now()
	mustDeploy(t, cli, deployReq("f", "def handler(e, c):\n    return 1\n", pyConfig(), now))
	current := func(want int) {
		t.Helper()
		f, err := server.GetFunction(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		if f.Current.Version != want {
			t.Fatalf("the server reads version %d, want %d", f.Current.Version, want)
		}
	}
	current(1)
	current(1) // kept
	mustDeploy(t, cli, deployReq("f", "def handler(e, c):\n    return 2\n", pyConfig(), now))
	current(2)
	if _, _, err := cli.Rollback(ctx, "f", 1, now); err != nil {
		t.Fatal(err)
	}
	current(1)
	if err := cli.DeleteFunction(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	_, err = server.GetFunction(ctx, "f")
	wantKind(t, err, fault.NotFound)
}
