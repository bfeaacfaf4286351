package jobs

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/store"
)

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[ListOptions]{
		{Args: []string{}, Want: ListOptions{Filter: store.JobFilter{Limit: 20}, Output: "table"}},
		{Args: []string{"--function", "hello", "--status", "failed", "--limit", "0", "-o", "json"},
			Want: ListOptions{Filter: store.JobFilter{Function: "hello", Status: "failed"}, Output: "json"}},
		{Args: []string{"hello"}, Usage: true},
		{Args: []string{"--limit", "ten"}, Usage: true},
		{Args: []string{"-o", "csv"}, Usage: true},
	})
}
