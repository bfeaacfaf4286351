package agent

import (
	"testing"

	"github.com/faasdev/faas/pkg/fastinvoke"
)

func TestInvokesAcceptOnlyTheirFunctionWithTheirSettings(t *testing.T) {
	h := &invokes{home: t.TempDir(), fn: "hello", env: faasEnv([]string{"FAAS_AGENT_IDLE=10m", "FAAS_HOME=/a", "PATH=/bin"})}
	t.Cleanup(func() {
		if h.eng != nil {
			h.eng.Close()
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want bool
	}{
		{"plain", []string{"invoke", "hello"}, []string{"FAAS_AGENT_IDLE=10m"}, true},
		{"another home spelling, debug, other variables", []string{"invoke", "hello", "-d", "{}"},
			[]string{"FAAS_AGENT_IDLE=10m", "FAAS_HOME=rel", "FAAS_DEBUG=1", "PATH=/usr/bin", "FAAS_SANDBOX="}, true},
		{"another function", []string{"invoke", "other"}, []string{"FAAS_AGENT_IDLE=10m"}, false},
		{"another command", []string{"jobs", "hello"}, []string{"FAAS_AGENT_IDLE=10m"}, false},
		{"a flag the fast path does not take", []string{"invoke", "hello", "--async"}, []string{"FAAS_AGENT_IDLE=10m"}, false},
		{"another setting", []string{"invoke", "hello"}, []string{"FAAS_AGENT_IDLE=10m", "FAAS_SANDBOX=rlimit"}, false},
		{"a setting missing", []string{"invoke", "hello"}, nil, false},
		{"a setting changed", []string{"invoke", "hello"}, []string{"FAAS_AGENT_IDLE=1m"}, false},
	} {
		if got := h.Accept(&fastinvoke.Call{Args: tc.args, Env: tc.env}); got != tc.want {
			t.Errorf("%s: Accept = %v, want %v", tc.name, got, tc.want)
		}
	}
}
