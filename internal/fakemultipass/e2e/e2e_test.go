//go:build !integration

// Package e2e runs faas against the stand-in multipass: the Multipass
// provider's real code driving the fake CLI, whose VMs run the real agent.
package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/internal/fakemultipass"
	"github.com/faasdev/faas/internal/scripttest"
)

func TestMain(m *testing.M) {
	scripttest.Main(m, map[string]func(){"multipass": func() { os.Exit(fakemultipass.Main()) }})
}

func TestMultipassScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			if err := scripttest.Setup(env); err != nil {
				return err
			}
			vms := filepath.Join(env.WorkDir, ".multipass")
			env.Setenv("FAAS_FAKE_MULTIPASS_DIR", vms)
			env.Defer(func() { fakemultipass.KillAll(vms) })
			return os.MkdirAll(vms, 0o700)
		},
		Cmds:                scripttest.Cmds(),
		Condition:           condition(true),
		RequireExplicitExec: true,
	})
}
