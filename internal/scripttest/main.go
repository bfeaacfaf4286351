package scripttest

import (
	"maps"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/pkg/app"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Main is the TestMain of a testscript suite: faas, exitcode (which
// records a command's exit code) and the extra programs (a stand-in
// multipass) are on the scripts' PATH as this test binary. m may wrap a
// *testing.M to prepare what the tests need, in the test process only.
func Main(m testscript.TestingM, extra map[string]func()) {
	cmds := map[string]func(){"faas": func() { os.Exit(app.Main(os.Args[1:])) }, "exitcode": exitCode}
	maps.Copy(cmds, extra)
	testscript.Main(m, cmds)
}

// DoubleAsFaas is the TestMain of a package whose tests start real local
// instances: the test binary doubles as faas for the agents and sandbox
// shims the local provider starts with it.
func DoubleAsFaas(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "agent" || os.Args[1] == sandbox.SandboxArg) {
		os.Exit(app.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}
