package logs

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{"hello"}, Want: Options{Name: "hello", Output: "table"}},
		{Args: []string{"hello", "--job", "01abc", "--since", "10m", "--tail", "5", "-o", "json"},
			Want: Options{Name: "hello", JobID: "01abc", Since: "10m", Tail: 5, Output: "json"}},
		{Args: []string{"hello", "-f", "--since", "2026-11-25T18:00:00Z"}, Want: Options{Name: "hello", Follow: true, Since: "2026-11-25T18:00:00Z", Output: "table"}},
		{Args: []string{"hello", "--instances"}, Want: Options{Name: "hello", Instances: true, Output: "table"}},
		{Args: []string{"hello", "--since", "yesterday"}, Usage: true},
		{Args: []string{"hello", "--since", "-5m"}, Usage: true},
		{Args: []string{"hello", "--tail", "-1"}, Usage: true},
		{Args: []string{"hello", "-f", "--job", "01abc"}, Usage: true},
		{Args: []string{"hello", "-o", "csv"}, Usage: true},
		{Args: []string{}, Usage: true},
	})
}
