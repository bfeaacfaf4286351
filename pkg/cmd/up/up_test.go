package up

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/manifest"
	"github.com/faasdev/faas/pkg/store"
)

func TestFlags(t *testing.T) {
	type parsed struct {
		File   string
		Names  []string
		Output string
	}
	get := func(o *Options) parsed { return parsed{o.File, o.Names, o.Output} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{}, Want: parsed{"faas.yaml", []string{}, "name"}},
		{Args: []string{"-f", "x/faas.yaml", "a", "b", "-o", "json"}, Want: parsed{"x/faas.yaml", []string{"a", "b"}, "json"}},
		{Args: []string{"-o", "table"}, Usage: true},
		{Args: []string{"--nope"}, Usage: true},
	})
}

// backend deploys into memory: "same" is always unchanged, "broken"
// fails as the platform would.
type backend struct {
	cmdutil.Backend
	deployed []engine.DeployRequest
}

func (b *backend) Deploy(_ context.Context, r engine.DeployRequest) (engine.DeployResult, error) {
	if r.Name == "broken" {
		return engine.DeployResult{}, fault.Platformf("the store is gone")
	}
	b.deployed = append(b.deployed, r)
	return engine.DeployResult{Function: r.Name, Version: store.Version{Version: 7, Config: r.Config}, Provider: "local",
		Created: r.Name != "same"}, nil
}

func project(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"faas.yaml": yaml,
		"a.py":      "def handler(event, context):\n    return 1\n",
		"b.sh":      "echo hi\n",
		"env":       "FROM_FILE=1\nBOTH=file\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "faas.yaml")
}

func run(t *testing.T, o *Options) (stdout, stderr string, err error) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	o.IO = io
	err = Run(context.Background(), o)
	return out.String(), errOut.String(), err
}

func TestUpIsDeclarative(t *testing.T) {
	file := project(t, `functions:
  new:
    path: a.py
    memory: 128
    env_file: env
    env: {BOTH: manifest}
    secrets: [zeta, alpha=ALPHA]
  same:
    path: b.sh
`)
	b := &backend{}
	stdout, stderr, err := run(t, &Options{File: file, Output: "json", Backend: func() (cmdutil.Backend, error) { return b, nil }})
	if err != nil {
		t.Fatalf("up: %v\n%s", err, stderr)
	}
	var recs []Record
	if err := json.Unmarshal([]byte(stdout), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0] != (Record{"new", 7, "created"}) || recs[1] != (Record{"same", 7, "unchanged"}) {
		t.Fatalf("records %+v", recs)
	}
	r := b.deployed[0]
	if r.Keep || r.Set != nil || r.Config.MemoryMB != 128 || r.Config.Env["BOTH"] != "manifest" || r.Config.Env["FROM_FILE"] != "1" ||
		len(r.Code) == 0 || r.Config.Secrets[0].Name != "alpha" {
		t.Fatalf("request %+v", r)
	}
	if !strings.Contains(stderr, "deployed new v7") || !strings.Contains(stderr, "same v7 is unchanged") || !strings.Contains(stderr, "1 deployed, 1 unchanged") {
		t.Fatalf("stderr %q", stderr)
	}
}

func TestUpStopsAtAPlatformFailure(t *testing.T) {
	file := project(t, "functions:\n  a:\n    path: a.py\n  broken:\n    path: a.py\n  c:\n    path: b.sh\n")
	b := &backend{}
	stdout, _, err := run(t, &Options{File: file, Backend: func() (cmdutil.Backend, error) { return b, nil }})
	if fault.KindOf(err) != fault.Platform || !strings.HasPrefix(err.Error(), "broken: ") || !strings.Contains(fault.HintOf(err), "(a)") {
		t.Fatalf("err %v (hint %q)", err, fault.HintOf(err))
	}
	if stdout != "" || len(b.deployed) != 1 {
		t.Fatalf("stdout %q, deployed %d", stdout, len(b.deployed))
	}
}

// Every bad setting of a function is reported, not only its first.
func TestUpReportsEverySetting(t *testing.T) {
	file := project(t, `functions:
  a:
    path: a.py
    runtime: cobol
    mode: sometimes
    provider: cloud
    memory: 1Q
    disk: lots
    tmp: 1Z
    timeout: 0s
    scale_idle: -1s
    handler: "x y"
    env_file: nosuch
    env: {"A B": 1}
  b:
    path: b.sh
    min_instances: 5
    max_instances: 2
`)
	called := false
	_, stderr, err := run(t, &Options{File: file, Backend: func() (cmdutil.Backend, error) { called = true; return nil, nil }})
	var errs *manifest.Errors
	if !errors.As(err, &errs) || fault.KindOf(err) != fault.Usage || called {
		t.Fatalf("err %v, backend called %v", err, called)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i, key := range []string{"runtime", "mode", "provider", "memory", "disk", "tmp", "timeout", "scale_idle", "handler", "env_file", "env"} {
		if i >= len(lines) || !strings.Contains(lines[i], "faas.yaml:"+strconv.Itoa(4+i)+":") || !strings.Contains(lines[i], ": "+key+": ") {
			t.Errorf("no error for %s at line %d in:\n%s", key, 4+i, stderr)
		}
	}
	if want := "faas.yaml:15:3: function b: min-instances 5 is above max-instances 2"; !strings.Contains(stderr, want) {
		t.Errorf("no %q in:\n%s", want, stderr)
	}
	if len(lines) != 12 {
		t.Errorf("%d errors, want 12:\n%s", len(lines), stderr)
	}
}
