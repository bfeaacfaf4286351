package show

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{"01abc"}, Want: Options{ID: "01abc", Output: "table"}},
		{Args: []string{"01abc", "-o", "json"}, Want: Options{ID: "01abc", Output: "json"}},
		{Args: []string{}, Usage: true},
		{Args: []string{"a", "b"}, Usage: true},
		{Args: []string{"01abc", "-o", "result"}, Usage: true},
	})
}
