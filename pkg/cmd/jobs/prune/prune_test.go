package prune

import (
	"testing"
	"time"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.Local)
	at := time.Date(2026, 10, 1, 12, 30, 0, 0, time.UTC)
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{"--before", "2026-10-01"}, Want: Options{Before: oct, Output: "table"}},
		{Args: []string{"--before", "2026-10-01T12:30:00Z", "--dry-run", "-o", "json"}, Want: Options{Before: at, DryRun: true, Output: "json"}},
		{Args: []string{}, Usage: true},
		{Args: []string{"--before", "yesterday"}, Usage: true},
		{Args: []string{"--before", "2026-13-01"}, Usage: true},
		{Args: []string{"--before", "2026-10-01", "extra"}, Usage: true},
	})
}
