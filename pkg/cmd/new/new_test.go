package newcmd

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/faasdev/faas/internal/cmdtest"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/manifest"
)

func TestFlags(t *testing.T) {
	type parsed struct {
		Name, Lang string
		List       bool
	}
	get := func(o *Options) parsed { return parsed{o.Name, o.Lang, o.List} }
	cmdtest.Table(t, NewCmd, get, []cmdtest.Row[parsed]{
		{Args: []string{"hello"}, Want: parsed{"hello", "python", false}},
		{Args: []string{"hello", "--lang", "node"}, Want: parsed{"hello", "node", false}},
		{Args: []string{"hello", "-l", "BASH"}, Want: parsed{"hello", "BASH", false}},
		{Args: []string{"--list"}, Want: parsed{"", "python", true}},
		{Args: []string{"hello", "--lang", "cobol"}, Usage: true},
		{Args: []string{"Bad_Name"}, Usage: true},
		{Args: []string{"a/b"}, Usage: true},
		{Args: []string{}, Usage: true},
		{Args: []string{"hello", "--list"}, Usage: true},
		{Args: []string{"a", "b"}, Usage: true},
	})
}

// Each template has its handler, an event and a test, and makes a
// manifest that lists the function with its handler.
func TestEveryTemplate(t *testing.T) {
	for _, tp := range Templates {
		t.Run(tp.Name, func(t *testing.T) {
			dir := t.TempDir()
			io, _, out, _ := iostreams.Test()
			o := &Options{IO: io, Name: "fn", Lang: tp.Name, Dir: dir}
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if out.String() != "fn\n" {
				t.Fatalf("stdout %q", out)
			}
			for _, f := range []string{tp.Handler, "event.json", manifest.DefaultFile} {
				if _, err := os.Stat(filepath.Join(dir, "fn", f)); err != nil {
					t.Error(err)
				}
			}
			m, err := manifest.Load(filepath.Join(dir, "fn", manifest.DefaultFile))
			if err != nil {
				t.Fatal(err)
			}
			if fn, ok := m.Lookup("fn"); !ok || fn.File != filepath.Join(dir, "fn", tp.Handler) {
				t.Fatalf("manifest %+v", m.Functions)
			}
			if fi, err := os.Stat(filepath.Join(dir, "fn", tp.Handler)); err == nil && filepath.Ext(tp.Handler) == ".sh" && fi.Mode()&0o100 == 0 {
				t.Errorf("%s is not executable", tp.Handler)
			}
			// Again: the directory exists.
			if err := Run(context.Background(), o); fault.KindOf(err) != fault.Usage {
				t.Fatalf("second run: %v", err)
			}
		})
	}
	dirs, err := fs.ReadDir(files, "templates")
	if err != nil || len(dirs) != len(Templates) {
		t.Fatalf("%d template directories, %d templates: %v", len(dirs), len(Templates), err)
	}
}

func TestList(t *testing.T) {
	io, _, out, _ := iostreams.Test()
	if err := Run(context.Background(), &Options{IO: io, List: true, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	var got []Template
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 3 || got[0].Name != "python" || got[0].Description == "" {
		t.Fatalf("%s: %v", out, err)
	}
}
