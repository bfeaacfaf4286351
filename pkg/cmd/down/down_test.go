package down

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

func TestFlags(t *testing.T) {
	type parsed struct {
		File  string
		Names []string
	}
	get := func(o *Options) parsed { return parsed{o.File, o.Names} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{}, Want: parsed{"faas.yaml", []string{}}},
		{Args: []string{"-f", "x.yaml", "a"}, Want: parsed{"x.yaml", []string{"a"}}},
		{Args: []string{"-o", "json"}, Usage: true},
	})
}

// backend has the functions deployed; Remove of another is not found.
type backend struct {
	cmdutil.Backend
	deployed map[string]bool
}

func (b *backend) Remove(_ context.Context, name string) error {
	if !b.deployed[name] {
		return fault.NotFoundf("function %q not found", name)
	}
	delete(b.deployed, name)
	return nil
}

func TestDown(t *testing.T) {
	file := filepath.Join(t.TempDir(), "faas.yaml")
	// The files need not exist to remove the functions.
	if err := os.WriteFile(file, []byte("functions:\n  a: {path: a.py}\n  b: {path: b.py}\n  c: {path: c.py}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &backend{deployed: map[string]bool{"a": true, "c": true, "other": true}}
	io, _, out, errOut := iostreams.Test()
	o := &Options{IO: io, File: file, Backend: func() (cmdutil.Backend, error) { return b, nil }}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nc\n" || !strings.Contains(errOut.String(), "b is not deployed: nothing to remove") || len(b.deployed) != 1 {
		t.Fatalf("stdout %q, stderr %q, left %v", out, errOut, b.deployed)
	}
	o.Names = []string{"nosuch"}
	if err := Run(context.Background(), o); fault.KindOf(err) != fault.Usage {
		t.Fatalf("down nosuch: %v", err)
	}
}
