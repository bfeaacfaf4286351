// Package codestore keeps each version's code on disk under FAAS_HOME
// (or an instance's home), named by its sha256, read by the agent that
// runs it.
package codestore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// Path is where a version's code lives on disk: named by its sha256, so
// concurrent writers agree, with the extension that tells the runtime how to
// load it.
func Path(home string, inv faastype.Invocation) string {
	return faashome.CodeFile(home, Name(inv))
}

// Name is the file name of a version's code: inv.CodeName when set,
// else derived from the code.
func Name(inv faastype.Invocation) string {
	if inv.CodeName != "" {
		return filepath.Base(inv.CodeName)
	}
	if inv.Tree {
		return inv.SHA256 + ".tar"
	}
	ext := filepath.Ext(inv.Filename)
	if inv.Config.Runtime == function.Node {
		ext = ".cjs"
		if function.IsESModule(inv.Code) {
			ext = ".mjs"
		}
	}
	return inv.SHA256 + ext
}

// Write writes a version's code once and returns its path.
func Write(home string, inv faastype.Invocation) (string, error) {
	path := Path(home, inv)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if len(inv.Code) == 0 {
		return "", fault.Platformf("the code of %s v%d is not on disk (%s)", inv.Function, inv.Version, path)
	}
	// Readable and executable by a jailed function's own uid (a script
	// with #! runs as itself), writable by none.
	if err := faashome.WriteFile(path, inv.Code, 0o555); err != nil {
		return "", fault.Platformf("write function code: %w", err)
	}
	return path, nil
}

// Entry is where a version's entry file is once its code is on disk
// (Write, then Unpack for a tree): the code file itself, or the entry's
// path in the tree's directory.
func Entry(home string, inv faastype.Invocation) string {
	if inv.Tree {
		return filepath.Join(TreeDir(home, inv), filepath.FromSlash(inv.Filename))
	}
	return Path(home, inv)
}

// TreeDir is where a tree version's files are unpacked: beside its tar,
// named by the same sha256.
func TreeDir(home string, inv faastype.Invocation) string {
	return strings.TrimSuffix(Path(home, inv), ".tar") + ".d"
}

// Unpack unpacks a tree version's tar, which the caller has verified
// (Verify), into TreeDir once; concurrent unpackers agree (the directory
// appears whole, by a rename). Every entry is checked again on the way:
// the bytes on disk are not trusted.
func Unpack(home string, inv faastype.Invocation) (string, error) {
	dir := TreeDir(home, inv)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	b, err := os.ReadFile(Path(home, inv))
	if err != nil {
		return "", fault.Platformf("read function code: %w", err)
	}
	if err := bundle.Unpack(b, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fault.Platformf("unpack function code: %w", err)
	}
	return dir, nil
}

// Verify checks that the file at path holds the code whose sha256 is sum:
// an agent runs a version only if its bytes are the ones deployed.
func Verify(path, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return fault.Platformf("read function code: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fault.Platformf("read function code: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fault.Platformf("the code at %s is not the version deployed (sha256 %s, want %s): refusing to run it", path, got, sum)
	}
	return nil
}
