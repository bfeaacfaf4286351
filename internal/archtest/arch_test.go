// Package archtest holds the layering rules of docs/architecture.md as a
// test: an import that runs back up the layers fails the build's tests.
package archtest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/faasdev/faas/"

// imports maps each package of the module (without the module prefix) to
// the packages it imports, from `go list`.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		var deps []string
		for _, d := range f[1:] {
			deps = append(deps, strings.TrimPrefix(d, mod))
		}
		m[strings.TrimPrefix(f[0], mod)] = deps
	}
	return m
}

// matches reports whether pkg is named by pattern: "a/b" is a/b and the
// packages below it, "a/b/" only those below it.
func matches(pkg, pattern string) bool {
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(pkg, pattern)
	}
	return pkg == pattern || strings.HasPrefix(pkg, pattern+"/")
}

func TestLayers(t *testing.T) {
	m := imports(t)
	if len(m) < 20 {
		t.Fatalf("go list found only %d packages", len(m))
	}
	rules := []struct {
		from, why string
		to        []string
		exceptTo  []string
	}{
		{"pkg/store", "the store speaks the shared words, not a provider's", []string{"pkg/provider", "pkg/engine", "pkg/agent"}, nil},
		{"pkg/sandbox", "the sandbox confines processes and knows nothing above it",
			[]string{"pkg/provider", "pkg/agent", "pkg/engine", "pkg/store", "pkg/function", "pkg/codestore", "pkg/egress", "pkg/build"}, nil},
		{"pkg/egress", "the egress proxy serves jails and knows nothing of who runs them",
			[]string{"pkg/agent", "pkg/build", "pkg/engine", "pkg/store", "pkg/provider", "pkg/function", "pkg/codestore", "pkg/cmd"}, nil},
		{"pkg/build", "the builder builds environments and knows nothing of who deploys or runs them",
			[]string{"pkg/engine", "pkg/store", "pkg/provider", "pkg/agent", "pkg/codestore", "pkg/cmd", "pkg/cmdutil", "pkg/server", "pkg/remote"}, nil},
		{"pkg/agent", "the agent speaks the shared words, not a provider's", []string{"pkg/provider", "pkg/engine", "pkg/store"}, nil},
		{"pkg/engine", "the engine names no provider, no store implementation and no agent",
			[]string{"pkg/provider/", "pkg/store/sqlite", "pkg/agent", "pkg/sandbox", "pkg/egress", "pkg/cmd", "pkg/cmdutil", "pkg/iostreams", "pkg/server", "pkg/remote"}, nil},
		{"pkg/provider/", "a provider links the agent's client and protocol, never its server",
			[]string{"pkg/engine", "pkg/store", "pkg/sandbox", "pkg/cmd", "pkg/cmdutil"}, []string{"pkg/agent/client", "pkg/agent/api"}},
		{"pkg/web", "the dashboard reads the engine's views as the API does, never the store or a provider",
			[]string{"pkg/store/", "pkg/provider", "pkg/agent", "pkg/sandbox", "pkg/cmd", "pkg/cmdutil", "pkg/server", "pkg/remote"}, nil},
		{"pkg/dispatcher", "the dispatcher runs the engine through its Queue interface", []string{"pkg/engine", "pkg/provider", "pkg/agent"}, nil},
		{"pkg/cluster", "the cluster is the engine's Remote over NATS: it runs the engine and providers, never a store, an agent or a command",
			[]string{"pkg/store/", "pkg/agent", "pkg/sandbox", "pkg/cmd", "pkg/cmdutil", "pkg/server", "pkg/remote", "pkg/provider/"}, nil},
		{"pkg/spare", "the spares' layout and claim knows nothing of who makes or claims them",
			[]string{"pkg/engine", "pkg/store", "pkg/provider", "pkg/agent", "pkg/sandbox", "pkg/cmd", "pkg/cmdutil"}, nil},
		{"pkg/faastype", "the shared words sit at the bottom", []string{"pkg/"}, []string{"pkg/function"}},
		{"pkg/logging", "the loggers sit at the bottom", []string{"pkg/"}, nil},
		{"pkg/faashome", "FAAS_HOME's layout sits at the bottom", []string{"pkg/"}, []string{"pkg/fault", "pkg/proc"}},
		{"pkg/fastinvoke", "the fast path of `faas invoke` carries a command line and knows nothing of what runs it",
			[]string{"pkg/"}, []string{"pkg/faastype"}},
		{"pkg/vmimage", "the image builder builds images and knows nothing of who boots them",
			[]string{"pkg/engine", "pkg/store", "pkg/provider", "pkg/agent", "pkg/sandbox", "pkg/cmd", "pkg/cmdutil", "pkg/vminit"}, nil},
		{"pkg/vminit", "a guest's PID 1 mounts and starts the agent by its command line, linking none of it",
			[]string{"pkg/"}, nil},
	}
	domain := []string{"pkg/engine", "pkg/store", "pkg/provider", "pkg/agent", "pkg/sandbox", "pkg/billing", "pkg/autoscale",
		"pkg/function", "pkg/faastype", "pkg/faashome", "pkg/codestore", "pkg/interp", "pkg/egress", "pkg/build", "pkg/vmimage", "pkg/vminit", "pkg/spare"}
	for pkg, deps := range m {
		for _, d := range deps {
			for _, r := range rules {
				if !matches(pkg, r.from) {
					continue
				}
				for _, bad := range r.to {
					hit := matches(d, bad)
					for _, ok := range r.exceptTo {
						hit = hit && !matches(d, ok)
					}
					if hit {
						t.Errorf("%s imports %s: %s", pkg, d, r.why)
					}
				}
			}
			for _, dp := range domain {
				if matches(pkg, dp) && (strings.Contains(d, "spf13/cobra") || strings.Contains(d, "lipgloss") || d == "pkg/iostreams") {
					t.Errorf("%s imports %s: domain packages never import cobra or the terminal", pkg, d)
				}
			}
		}
	}
}

// TestRulesCanFail makes sure the rules see the imports at all: the engine
// does import the provider interface, and the local provider the agent's
// client.
func TestRulesCanFail(t *testing.T) {
	m := imports(t)
	has := func(pkg, dep string) bool {
		for _, d := range m[pkg] {
			if d == dep {
				return true
			}
		}
		return false
	}
	if !has("pkg/engine", "pkg/provider") || !has("pkg/provider/local", "pkg/agent/client") {
		t.Fatalf("go list's imports look wrong: engine %v, local %v", m["pkg/engine"], m["pkg/provider/local"])
	}
}

// TestFileSizes keeps every production Go file under 500 lines: past that
// a file holds more than one concern (split it along them).
func TestFileSizes(t *testing.T) {
	const limit = 500
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if lines := strings.Count(string(b), "\n"); lines > limit {
			t.Errorf("%s has %d lines, over %d", path, lines, limit)
		}
		return nil
	})
	if err != nil || n < 50 {
		t.Fatalf("walked %d Go files: %v", n, err)
	}
}
