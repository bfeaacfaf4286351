//go:build integration

// The same scenarios against a real Multipass, where one is installed:
//
//	go test -tags integration -timeout 60m ./internal/fakemultipass/e2e/
//
// Lines marked [fake] (fault injection, looking inside the stand-in's VMs)
// are skipped.
package e2e

import (
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/internal/scripttest"
)

func TestMain(m *testing.M) {
	scripttest.Main(withAgent{m}, nil)
}

func TestMultipassScripts(t *testing.T) {
	if _, err := exec.LookPath("multipass"); err != nil {
		t.Skip("multipass is not installed")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FAAS_AGENT_BINARY", agent)
			return scripttest.Setup(env)
		},
		Cmds:                scripttest.Cmds(),
		Condition:           condition(false),
		RequireExplicitExec: true,
	})
}
