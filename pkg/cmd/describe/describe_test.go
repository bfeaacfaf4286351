package describe

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	type parsed struct{ Name, Output string }
	get := func(o *Options) parsed { return parsed{o.Name, o.Output} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{"hello"}, Want: parsed{"hello", "table"}},
		{Args: []string{"hello", "-o", "json"}, Want: parsed{"hello", "json"}},
		{Args: []string{"hello", "-o", "yaml"}, Usage: true},
		{Args: []string{}, Usage: true},
	})
}
