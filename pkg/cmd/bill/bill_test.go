package bill

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/engine"
)

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{}, Want: Options{Output: "table"}},
		{Args: []string{"--month", "2026-11", "--function", "resize", "-o", "csv"},
			Want: Options{Request: engine.BillRequest{Month: "2026-11", Function: "resize"}, Output: "csv"}},
		// --owner "" is the local user's jobs, not every owner's.
		{Args: []string{"--owner", ""}, Want: Options{Request: engine.BillRequest{OwnerSet: true}, Output: "table"}},
		{Args: []string{"--owner", "alice", "-o", "json"}, Want: Options{Request: engine.BillRequest{Owner: "alice", OwnerSet: true}, Output: "json"}},
		{Args: []string{"2026-11"}, Usage: true},
		{Args: []string{"-o", "yaml"}, Usage: true},
	})
}
