package cluster

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/faasdev/faas/pkg/faashome"
)

// TestEnvRoundTrip: an environment (files, a read-only directory, a
// symlink) arrives whole under the worker's envs/KEY; an entry that would
// land outside it is refused and nothing is left.
func TestEnvRoundTrip(t *testing.T) {
	server, worker := t.TempDir(), t.TempDir()
	root := faashome.Env(server, "k1")
	if err := os.MkdirAll(filepath.Join(root, "python", "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "python", "pkg", "__init__.py"), []byte("V = 1\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pkg/__init__.py", filepath.Join(root, "python", "link.py")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "python", "pkg"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "python", "pkg"), 0o755) })
	var buf bytes.Buffer
	if err := WriteEnv(&buf, server, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := ReadEnv(bytes.NewReader(buf.Bytes()), worker, "k1"); err != nil {
		t.Fatal(err)
	}
	got := faashome.Env(worker, "k1")
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(got, "python", "pkg"), 0o755) })
	if b, err := os.ReadFile(filepath.Join(got, "python", "link.py")); err != nil || string(b) != "V = 1\n" {
		t.Fatalf("through the symlink: %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(got, "python", "pkg")); err != nil || st.Mode().Perm() != 0o555 {
		t.Fatalf("directory mode: %v, %v", st.Mode(), err)
	}
	if err := WriteEnv(&buf, server, "../k1"); err == nil {
		t.Error("a key with a path was served")
	}

	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	_ = tw.WriteHeader(&tar.Header{Name: "../escape", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	if err := ReadEnv(&evil, worker, "k2"); err == nil {
		t.Fatal("an entry outside the environment was unpacked")
	}
	if _, err := os.Stat(faashome.Env(worker, "k2")); err == nil {
		t.Error("a refused environment was left in place")
	}
	entries, _ := os.ReadDir(faashome.Envs(worker))
	if len(entries) != 1 {
		t.Errorf("envs holds %d entries, want only k1", len(entries))
	}
}
