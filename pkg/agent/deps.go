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

// Where a jailed function finds its dependencies, read-only: the whole
// environment at JailEnv, where it was built (pkg/build's JailDir: a path
// a package recorded at install time holds), Python's on sys.path
// (PYTHONPATH), Node's also where the resolver looks from /var/task
// upwards, so that require and import both find them (NODE_PATH alone
// does not serve ES modules). Lambda's layers are at /opt too.
const (
	JailEnv      = "/opt/env"
	JailNodeDeps = "/var/node_modules"
)

// deps is what a version's dependency environment adds to its process:
// the mounts into its jail, and its environment.
func (h *host) deps(inv faastype.Invocation) ([]sandbox.Mount, []string, error) {
	if inv.Deps == "" {
		return nil, nil, nil
	}
	env := faashome.Env(h.home, inv.Deps)
	var sub, variable string
	switch inv.Config.Runtime {
	case function.Python:
		sub, variable = "python", "PYTHONPATH"
	case function.Node:
		sub, variable = "node_modules", "NODE_PATH"
	default:
		return nil, nil, nil
	}
	if _, err := os.Stat(filepath.Join(env, sub)); err != nil {
		return nil, nil, fault.WithHint(fault.Platformf("the dependencies of %s v%d are not on this host (%s)", inv.Function, inv.Version, env),
			"deploy it again to build them")
	}
	if !h.sb.Sandbox.Jail {
		return nil, []string{variable + "=" + filepath.Join(env, sub)}, nil
	}
	mounts := []sandbox.Mount{{Source: env, Target: JailEnv}}
	if inv.Config.Runtime == function.Node {
		mounts = append(mounts, sandbox.Mount{Source: filepath.Join(env, sub), Target: JailNodeDeps})
	}
	return mounts, []string{variable + "=" + JailEnv + "/" + sub}, nil
}
