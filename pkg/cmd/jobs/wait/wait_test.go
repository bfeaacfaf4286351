package wait

import (
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	cmdtest.Table(t, NewCmd, cmdtest.Values, []cmdtest.Row[Options]{
		{Args: []string{"01abc"}, Want: Options{ID: "01abc", Output: "result"}},
		{Args: []string{"01abc", "--timeout", "2s", "-o", "json"}, Want: Options{ID: "01abc", Timeout: 2 * time.Second, Output: "json"}},
		{Args: []string{"01abc", "--timeout", "-1s"}, Usage: true},
		{Args: []string{"01abc", "--timeout", "soon"}, Usage: true},
		{Args: []string{""}, Usage: true},
		{Args: []string{strings.Repeat("x", 65)}, Usage: true},
		{Args: []string{"01abc", "-o", "table"}, Usage: true},
		{Args: []string{}, Usage: true},
	})
}
