package e2e

import (
	"log"
	"os"
	"testing"

	"github.com/faasdev/faas/internal/agentbuild"
)

// agent is the static agent the scripts' faas copies into VMs.
var agent string

// withAgent builds the agent before the tests run (not in the test
// binary's runs as faas or multipass).
type withAgent struct{ m *testing.M }

func (w withAgent) Run() int {
	dir, err := os.MkdirTemp("", "faas-agent-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if agent, err = agentbuild.Build(dir); err != nil {
		log.Fatal(err)
	}
	return w.m.Run()
}
