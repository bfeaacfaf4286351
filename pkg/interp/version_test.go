package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

func TestVersionAndPinned(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "python3")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 3.99.1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := New(dir).Version(function.Python, fake)
	if err != nil || v != "3.99.1" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	if p, err := Pinned(function.Python, fake); err != nil || p != fake {
		t.Fatalf("Pinned = %q, %v", p, err)
	}
	os.Remove(fake)
	_, err = Pinned(function.Python, fake)
	if fault.KindOf(err) != fault.Platform || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("Pinned of a removed interpreter = %v", err)
	}
}
