package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/sandbox"
)

func TestMain(m *testing.M) {
	scripttest.Main(m, nil)
}

// TestScripts runs the end-to-end scripts in testdata/script, each with its
// own FAAS_HOME and HOME, and the real faas on PATH.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: scripttest.Setup,
		Cmds:  scripttest.Cmds(),
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "bashcompletion":
				_, err := os.Stat("/usr/share/bash-completion/bash_completion")
				return err == nil, nil
			case "jail": // functions run jailed here
				return sandbox.DetectSandbox().Jail, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		RequireExplicitExec: true,
	})
}
