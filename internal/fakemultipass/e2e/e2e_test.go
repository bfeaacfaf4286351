//go:build !integration

// Package e2e runs faas against the stand-in multipass: the Multipass
// provider's real code driving the fake CLI, whose VMs run the real (static)
// agent.
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
	scripttest.Main(withAgent{m}, map[string]func(){"multipass": func() { os.Exit(fakemultipass.Main()) }})
}

func TestMultipassScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			if err := scripttest.Setup(env); err != nil {
				return err
			}
			if err := snapHome(env); err != nil {
				return err
			}
			env.Setenv("FAAS_AGENT_BINARY", agent)
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

// snapHome puts the script's user where the stand-in's snap rules see a
// home ($WORK/home/alice, $WORK/home being the homedirs) and FAAS_HOME where
// faas keeps it by default, ~/.local/share/faas: a hidden directory the
// snap-confined client cannot read. Nothing may reach multipass by path.
func snapHome(env *testscript.Env) error {
	homes := filepath.Join(env.WorkDir, "home")
	home := filepath.Join(homes, "alice")
	faasHome := filepath.Join(home, ".local", "share", "faas")
	env.Setenv(fakemultipass.EnvHomeDirs, homes)
	env.Setenv("HOME", home)
	env.Setenv("FAAS_HOME", faasHome)
	env.Defer(func() { scripttest.StopAgents(faasHome) })
	if err := os.Chmod(homes, 0o755); err != nil {
		return err
	}
	return os.MkdirAll(faasHome, 0o700)
}
