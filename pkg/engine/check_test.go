package engine

import (
	"testing"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// Check refuses what Deploy would refuse, with the same usage errors,
// and needs no store.
func TestCheckAsDeployWould(t *testing.T) {
	ok := DeployRequest{Filename: "hello.py", Code: []byte("def handler(event, context):\n    return 1\n"), Config: function.DefaultConfig()}
	if err := Check(ok); err != nil {
		t.Fatalf("Check(hello.py) = %v", err)
	}
	tooMany := function.DefaultConfig()
	tooMany.MinInstances, tooMany.MaxInstances = 5, 2
	named := function.DefaultConfig()
	named.Handler = "nosuch"
	bad := []DeployRequest{
		{Filename: "tool", Code: []byte("plain text"), Config: function.DefaultConfig()},
		{Filename: "x.sh", Code: []byte("echo"), Mode: function.Handler, Config: function.DefaultConfig()},
		{Filename: "-x.py", Code: []byte("print(1)"), Config: function.DefaultConfig()},
		{Filename: "x.py", Code: []byte("  \n"), Config: function.DefaultConfig()},
		{Filename: "x.py", Code: []byte("print(1)"), Config: tooMany},
		{Filename: "x.py", Code: []byte("def handler(e, c):\n    return 1\n"), Config: named},
	}
	for _, r := range bad {
		if err := Check(r); fault.KindOf(err) != fault.Usage {
			t.Errorf("Check(%s, mode %q, %+v) = %v, want a usage error", r.Filename, r.Mode, r.Config, err)
		}
	}
}
