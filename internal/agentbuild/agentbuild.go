// Package agentbuild builds, for tests, the static guest agent
// (cmd/faas-agent) that the Multipass provider copies into VMs: the test
// binaries are built with cgo and are not what a guest can run.
package agentbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build builds cmd/faas-agent with CGO_ENABLED=0 into dir and returns its
// path. Go's build cache makes every build after the first a link.
func Build(dir string) (string, error) {
	out := filepath.Join(dir, "faas-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/faasdev/faas/cmd/faas-agent")
	var env []string
	for _, kv := range os.Environ() {
		// -race needs cgo; the agent is not the code under test.
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			kv = "GOFLAGS=" + strings.Join(withoutRace(strings.Fields(v)), " ")
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "CGO_ENABLED=0") // the last one counts
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the static agent: %v\n%s", err, b)
	}
	return out, nil
}

func withoutRace(flags []string) []string {
	var out []string
	for _, f := range flags {
		if f != "-race" {
			out = append(out, f)
		}
	}
	return out
}
