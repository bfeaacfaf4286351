package qemu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/vmimage"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// writeTree makes files (relative path: content) under dir and leaves
// its directories read-only, as builds and unpacks do.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			t.Fatal(err)
		}
	}
}

// sharedFiles lists, relative to FAAS_HOME, every entry in the 9p shares
// QEMU's command line gives the instance.
func sharedFiles(t *testing.T, p *Provider, id string) []string {
	t.Helper()
	st := state{ID: id, Accel: Accel{Name: "tcg"}}
	a0 := args(st, vmimage.Image{Dir: "/img"}, p.instanceSpec(st, 0))
	var out []string
	for i, a := range a0 {
		if i == 0 || a0[i-1] != "-fsdev" {
			continue
		}
		_, rest, _ := strings.Cut(a, "path=")
		root, _, _ := strings.Cut(rest, ",")
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != root {
				rel, _ := filepath.Rel(root, path)
				out = append(out, filepath.Base(root)+"/"+filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// A VM's shares hold its own versions' code and environments, nothing
// of another owner's: FAAS_HOME holds two functions' code and
// environments and a third's, and each instance sees only its own, a
// redeployed version added beside the first.
func TestSharesHoldOnlyTheInstancesVersions(t *testing.T) {
	p := &Provider{Home: t.TempDir()}
	py := function.Config{Runtime: function.Python}
	a := faastype.Invocation{Function: "a", Version: 1, Filename: "a.py", Code: []byte("A1"), SHA256: sha("A1"), Deps: "enva", Config: py}
	b := faastype.Invocation{Function: "b", Version: 1, Filename: "app/main.py", SHA256: sha("B1"), Tree: true, Deps: "envb", Config: py}
	writeTree(t, faashome.Env(p.Home, "enva"), map[string]string{"python/liba.py": "a"})
	writeTree(t, faashome.Env(p.Home, "envb"), map[string]string{"python/libb.py": "b"})
	writeTree(t, faashome.Env(p.Home, "envother"), map[string]string{"python/secret.py": "other owner"})
	writeTree(t, faashome.CodeFile(p.Home, b.SHA256+".d"), map[string]string{"app/main.py": "B1"})
	if err := os.WriteFile(faashome.CodeFile(p.Home, b.SHA256+".tar"), []byte("B1"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(faashome.CodeFile(p.Home, sha("other")+".py"), []byte("other owner"), 0o555); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"qemu-a-1", "qemu-b-1"} {
		if err := p.makeShare(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.place("qemu-a-1", a); err != nil {
		t.Fatal(err)
	}
	if err := p.place("qemu-b-1", b); err != nil {
		t.Fatal(err)
	}
	check := func(id string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := sharedFiles(t, p, id); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s's shares hold\n  %s\nwant\n  %s", id, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	check("qemu-a-1", "code/"+a.SHA256+".py", "envs/enva", "envs/enva/python", "envs/enva/python/liba.py")
	check("qemu-b-1", "code/"+b.SHA256+".tar", "code/"+b.SHA256+".d", "code/"+b.SHA256+".d/app", "code/"+b.SHA256+".d/app/main.py",
		"envs/envb", "envs/envb/python", "envs/envb/python/libb.py")
	// The shared files are the code store's (links), read-only as there.
	if got, err := os.ReadFile(filepath.Join(p.share("qemu-b-1"), "code", b.SHA256+".d", "app", "main.py")); err != nil || string(got) != "B1" {
		t.Fatalf("b's entry = %q, %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(p.share("qemu-b-1"), "code", b.SHA256+".d", "app")); err != nil || fi.Mode().Perm() != 0o555 {
		t.Fatalf("b's tree directory: %v, %v", fi, err)
	}

	// A redeploy rolls version 2 (new code, new environment) onto a's VM.
	writeTree(t, faashome.Env(p.Home, "enva2"), map[string]string{"python/liba.py": "a2"})
	a2 := a
	a2.Version, a2.Code, a2.SHA256, a2.Deps = 2, []byte("A2"), sha("A2"), "enva2"
	if err := p.place("qemu-a-1", a2); err != nil {
		t.Fatal(err)
	}
	check("qemu-a-1", "code/"+a.SHA256+".py", "code/"+a2.SHA256+".py", "envs/enva", "envs/enva/python", "envs/enva/python/liba.py",
		"envs/enva2", "envs/enva2/python", "envs/enva2/python/liba.py")
	// Placing again changes nothing.
	if err := p.place("qemu-a-1", a2); err != nil {
		t.Fatal(err)
	}

	// Names that would reach out of the share are refused.
	for _, bad := range []faastype.Invocation{
		{Function: "a", Filename: "a.py", CodeName: "..", SHA256: sha("x"), Code: []byte("x"), Config: py},
		{Function: "a", Filename: "a.py", SHA256: sha("A1"), Code: []byte("A1"), Deps: "..", Config: py},
		{Function: "a", Filename: "a.py", SHA256: sha("A1"), Code: []byte("A1"), Deps: ".", Config: py},
	} {
		if err := p.place("qemu-a-1", bad); err == nil {
			t.Errorf("placing code %q, environment %q succeeded", bad.CodeName, bad.Deps)
		}
	}

	if err := p.place("..", a); err == nil {
		t.Error("placing into instance .. succeeded")
	}

	// Stop removes the instance's directory, read-only trees and all.
	if err := p.Stop(context.Background(), faastype.Instance{ID: "qemu-b-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.dir("qemu-b-1")); !os.IsNotExist(err) {
		t.Fatalf("b's directory is left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(faashome.CodeFile(p.Home, b.SHA256+".d"), "app", "main.py")); err != nil {
		t.Fatalf("stopping b's VM removed the code store's tree: %v", err)
	}
}
