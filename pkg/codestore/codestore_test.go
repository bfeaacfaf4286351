package codestore

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

func TestWriteOnceExecutableAndNamedBySHA(t *testing.T) {
	home := t.TempDir()
	inv := faastype.Invocation{Function: "f", Version: 1, SHA256: "abc", Filename: "x.sh", Code: []byte("#!/bin/sh\necho hi\n")}
	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Write(home, inv)
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		}()
	}
	wg.Wait()
	for _, p := range paths {
		if p != paths[0] || !strings.HasSuffix(p, "/code/abc.sh") {
			t.Fatalf("paths %q", paths)
		}
	}
	fi, err := os.Stat(paths[0])
	if err != nil || fi.Mode().Perm() != 0o555 {
		t.Fatalf("stat %v %v", fi, err)
	}
	// Once written, the code need not be at hand (an agent's request).
	inv.Code = nil
	if p, err := Write(home, inv); err != nil || p != paths[0] {
		t.Fatalf("second write: %q %v", p, err)
	}
	inv.SHA256 = "missing"
	if _, err := Write(home, inv); fault.KindOf(err) != fault.Platform {
		t.Fatalf("code neither given nor on disk: %v", err)
	}
}

func TestNodeModulesGetTheirExtension(t *testing.T) {
	cfg := function.Config{Runtime: function.Node}
	if n := Name(faastype.Invocation{SHA256: "s", Filename: "a.js", Code: []byte("module.exports.handler = () => 1"), Config: cfg}); n != "s.cjs" {
		t.Errorf("CommonJS: %q", n)
	}
	if n := Name(faastype.Invocation{SHA256: "s", Filename: "a.js", Code: []byte("export function handler() {}"), Config: cfg}); n != "s.mjs" {
		t.Errorf("ES module: %q", n)
	}
	if n := Name(faastype.Invocation{CodeName: "../../etc/x.py"}); n != "x.py" {
		t.Errorf("a code name is a base name: %q", n)
	}
}

func TestVerifyRefusesChangedCode(t *testing.T) {
	home := t.TempDir()
	code := []byte("print('deployed')\n")
	sum := fmt.Sprintf("%x", sha256.Sum256(code))
	p, err := Write(home, faastype.Invocation{SHA256: sum, Filename: "f.py", Code: code})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(p, sum); err != nil {
		t.Fatalf("the deployed code: %v", err)
	}
	// Someone rewrites the file under its name.
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("print('owned')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Verify(p, sum); fault.KindOf(err) != fault.Platform || !strings.Contains(err.Error(), "not the version deployed") {
		t.Fatalf("changed code: %v", err)
	}
}
