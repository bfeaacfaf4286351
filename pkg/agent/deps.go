package agent

import (
	"os"
	"path/filepath"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/sandbox"
)

// Where a jailed function finds its dependencies, read-only: Python's on
// its sys.path (PYTHONPATH), Node's where the resolver looks from
// /var/task upwards (so require and import both find them, which
// NODE_PATH would not do for ES modules). Lambda's layers are at /opt.
const (
	JailPythonDeps = "/opt/faas/python"
	JailNodeDeps   = "/var/node_modules"
)

// deps is what a version's dependency environment adds to its process:
// the mounts into its jail, and its environment.
func (h *host) deps(inv faastype.Invocation) ([]sandbox.Mount, []string, error) {
	if inv.Deps == "" {
		return nil, nil, nil
	}
	env := faashome.Env(h.home, inv.Deps)
	var src, target, variable string
	switch inv.Config.Runtime {
	case function.Python:
		src, target, variable = filepath.Join(env, "python"), JailPythonDeps, "PYTHONPATH"
	case function.Node:
		src, target, variable = filepath.Join(env, "node_modules"), JailNodeDeps, "NODE_PATH"
	default:
		return nil, nil, nil
	}
	if _, err := os.Stat(src); err != nil {
		return nil, nil, fault.WithHint(fault.Platformf("the dependencies of %s v%d are not on this host (%s)", inv.Function, inv.Version, src),
			"deploy it again to build them")
	}
	if !h.sb.Sandbox.Jail {
		return nil, []string{variable + "=" + src}, nil
	}
	return []sandbox.Mount{{Source: src, Target: target}}, []string{variable + "=" + target}, nil
}
