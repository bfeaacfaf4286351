package autoscale

import (
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/cmd/autoscale/events"
	"github.com/faasdev/faas/pkg/cmd/autoscale/run"
	"github.com/faasdev/faas/pkg/cmd/autoscale/start"
	"github.com/faasdev/faas/pkg/cmd/autoscale/status"
	"github.com/faasdev/faas/pkg/cmd/autoscale/stop"
)

func TestEventsFlags(t *testing.T) {
	cmdtest.Table(t, events.NewCmd, cmdtest.Values, []cmdtest.Row[events.Options]{
		{Args: []string{}, Want: events.Options{Output: "table"}},
		{Args: []string{"--function", "burst", "--since", "1h", "-o", "json"}, Want: events.Options{Function: "burst", Since: "1h", Output: "json"}},
		{Args: []string{"--since", "yesterday"}, Usage: true},
		{Args: []string{"--since", "-1h"}, Usage: true},
		{Args: []string{"-o", "csv"}, Usage: true},
		{Args: []string{"burst"}, Usage: true},
	})
}

func TestStatusFlags(t *testing.T) {
	cmdtest.Table(t, status.NewCmd, cmdtest.Values, []cmdtest.Row[status.Options]{
		{Args: []string{}, Want: status.Options{Output: "table"}},
		{Args: []string{"-o", "json"}, Want: status.Options{Output: "json"}},
		{Args: []string{"-o", "yaml"}, Usage: true},
		{Args: []string{"now"}, Usage: true},
	})
}

// start, stop and run take no flags and no arguments.
func TestNoArguments(t *testing.T) {
	cmdtest.Table(t, start.NewCmd, cmdtest.Values, []cmdtest.Row[start.Options]{{Args: []string{}}, {Args: []string{"x"}, Usage: true}})
	cmdtest.Table(t, stop.NewCmd, cmdtest.Values, []cmdtest.Row[stop.Options]{{Args: []string{}}, {Args: []string{"x"}, Usage: true}})
	cmdtest.Table(t, run.NewCmd, cmdtest.Values, []cmdtest.Row[run.Options]{{Args: []string{}}, {Args: []string{"--tick", "1s"}, Usage: true}})
}
