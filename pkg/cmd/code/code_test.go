package code

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
)

func TestFlags(t *testing.T) {
	type parsed struct {
		Name, Dir string
		Version   int
	}
	get := func(o *Options) parsed { return parsed{o.Name, o.Dir, o.Version} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{"hello"}, Want: parsed{"hello", "", 0}},
		{Args: []string{"hello", "--version", "2", "-o", "out"}, Want: parsed{"hello", "out", 2}},
		{Args: []string{"hello", "--version", "-1"}, Usage: true},
		{Args: []string{"hello", "--version", "x"}, Usage: true},
		{Args: []string{}, Usage: true},
	})
}
