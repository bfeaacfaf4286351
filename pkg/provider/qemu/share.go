package qemu

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/codestore"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
)

// A VM's 9p shares are directories of its own, run/qemu/<id>/share/code
// and share/envs, holding only what the versions it was given need: the
// code file, a tree's unpacked directory and the dependency environment,
// hard links to FAAS_HOME's code store and environments (files copied
// where a link cannot be made). A guest that escapes its jail and its
// root finds no other owner's code there.
const shareDir = "share"

// share is an instance's shared home: its code/ and envs/ are laid out
// as FAAS_HOME's, which is how the guest's agent reads them.
func (p *Provider) share(id string) string {
	return filepath.Join(p.dir(id), shareDir)
}

// makeShare makes an instance's empty shares.
func (p *Provider) makeShare(id string) error {
	for _, d := range []string{filepath.Join(p.share(id), "code"), faashome.Envs(p.share(id))} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// shareName is what a placed code file or environment may be called: one
// path element, never . or .., nor a hidden (temporary) name.
var shareName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// placeMu serialises placements within this process; across processes a
// placement appears whole (a rename) or its link already exists.
var placeMu sync.Mutex

// place puts what inv needs into the instance's shares, once: the
// environment and a tree's directory first, the code file last (the
// agent asks for a version's code by that file).
func (p *Provider) place(id string, inv faastype.Invocation) error {
	if !instanceID.MatchString(id) {
		return fault.Usagef("%q is not a valid instance id", id)
	}
	name := codestore.Name(inv)
	if !shareName.MatchString(name) || (inv.Deps != "" && !shareName.MatchString(inv.Deps)) {
		return fault.Usagef("%s v%d: code %q or environment %q is not a valid name", inv.Function, inv.Version, name, inv.Deps)
	}
	code := codestore.Path(p.share(id), inv)
	env := ""
	if inv.Deps != "" {
		env = faashome.Env(p.share(id), inv.Deps)
	}
	if exists(code) && (env == "" || exists(env)) {
		return nil
	}
	placeMu.Lock()
	defer placeMu.Unlock()
	if env != "" && !exists(env) {
		src := faashome.Env(p.Home, inv.Deps)
		if !exists(src) {
			return fault.WithHint(fault.Platformf("the dependencies of %s v%d are not on this host (%s)", inv.Function, inv.Version, src),
				"deploy it again to build them")
		}
		if err := linkTree(src, env); err != nil {
			return fault.Platformf("share the dependencies of %s with %s: %w", inv.Function, id, err)
		}
	}
	if exists(code) {
		return nil
	}
	src, err := codestore.Write(p.Home, inv)
	if err != nil {
		return err
	}
	if inv.Tree {
		dir, err := codestore.Unpack(p.Home, inv)
		if err != nil {
			return err
		}
		if err := linkTree(dir, codestore.TreeDir(p.share(id), inv)); err != nil {
			return fault.Platformf("share the code of %s with %s: %w", inv.Function, id, err)
		}
	}
	if err := linkFile(src, code); err != nil {
		return fault.Platformf("share the code of %s with %s: %w", inv.Function, id, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// linkFile hard-links src at dst (a copy across file systems); dst that
// exists is left alone.
func linkFile(src, dst string) error {
	if err := faashome.LinkOrCopy(src, dst); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// linkTree makes dst a copy of the directory src whose files are hard
// links (symbolic links copied as such, other kinds left out), built
// beside dst and renamed into place, so it appears whole. Directories get
// src's modes (read-only ones too) once filled.
func linkTree(src, dst string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".tmp-")
	if err != nil {
		return err
	}
	defer bundle.RemoveTree(tmp)
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		out := filepath.Join(tmp, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, dirMode{out, fi.Mode().Perm()})
			if rel == "." {
				return nil
			}
			return os.Mkdir(out, 0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.Type().IsRegular():
			return linkFile(path, out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil && !exists(dst) {
		return err
	}
	return nil
}
