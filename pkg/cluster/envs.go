package cluster

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/faasdev/faas/pkg/faashome"
)

// WriteEnv writes a built dependency environment of home as a tar: what a
// worker fetches (by its key, a hash of its lock) before it runs a
// version that needs it. Regular files, directories and symlinks, with
// their modes.
func WriteEnv(w io.Writer, home, key string) error {
	if key == "" || key != filepath.Base(key) || strings.HasPrefix(key, ".") {
		return fmt.Errorf("bad environment key %q", key)
	}
	root := faashome.Env(home, key)
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return fs.ErrNotExist
	}
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		} else if !info.Mode().IsRegular() && !info.IsDir() {
			return nil // sockets, devices: not part of an environment
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name, h.Uname, h.Gname, h.Uid, h.Gid = filepath.ToSlash(rel), "", "", 0, 0
		if info.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// ReadEnv unpacks an environment's tar into home's envs/KEY: into a
// temporary directory first, renamed into place when whole, so that a
// half-fetched environment is never used. Entries that would land outside
// it are refused.
func ReadEnv(r io.Reader, home, key string) error {
	if key == "" || key != filepath.Base(key) || strings.HasPrefix(key, ".") {
		return fmt.Errorf("bad environment key %q", key)
	}
	if err := os.MkdirAll(faashome.Envs(home), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(faashome.Envs(home), ".fetch-"+key+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tr := tar.NewReader(r)
	var dirs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("environment %s: entry %q is outside it", key, h.Name)
		}
		path := filepath.Join(tmp, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, h)
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, path); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(h.Mode)&0o777|0o200)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chmod(path, fs.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		default:
			return fmt.Errorf("environment %s: entry %q of type %c", key, h.Name, h.Typeflag)
		}
	}
	// Directories get their modes last: a read-only one is filled first.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(filepath.Join(tmp, filepath.FromSlash(dirs[i].Name)), fs.FileMode(dirs[i].Mode)&0o777); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, faashome.Env(home, key)); err != nil {
		if _, serr := os.Stat(faashome.Env(home, key)); serr == nil {
			return nil // another fetch got there first
		}
		return err
	}
	return nil
}
