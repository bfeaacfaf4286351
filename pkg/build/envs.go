package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
)

// seal makes a built environment read-only (directories 0555, files 0444,
// or 0555 where any execute bit was set), and root's when the build ran
// as another uid, so that no function, nor a later build, can change what
// every version with its key shares. It refuses what an environment may
// not hold: special files, and files linked from elsewhere (whose modes
// would change there too). It returns the bytes of its files.
//
// The build's processes are gone when it runs: a jailed build's PID
// namespace ended with its init, so nothing can swap a file for a link
// between its Lstat and its Chmod.
func seal(dir string, chown bool) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		mode := fs.FileMode(0o555)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			mode = 0 // a link has no mode of its own
		case fi.IsDir():
		case fi.Mode().IsRegular():
			if st != nil && st.Nlink > 1 {
				return fmt.Errorf("%s is linked from elsewhere", path)
			}
			if fi.Mode()&0o111 == 0 {
				mode = 0o444
			}
			size += fi.Size()
		default:
			return fmt.Errorf("%s is a %s, which an environment may not hold", path, fi.Mode().Type())
		}
		if chown {
			if err := os.Lchown(path, 0, 0); err != nil {
				return err
			}
		}
		if mode != 0 && path != dir { // the top last, once it is in place
			return os.Chmod(path, mode)
		}
		return nil
	})
	return size, err
}

// chownTree gives a tree to uid (and its gid), links included, never
// following them.
func chownTree(dir string, uid int) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, uid)
	})
}

// owner is a file's uid, -1 when it cannot be read.
func owner(path string) int {
	fi, err := os.Lstat(path)
	if err != nil {
		return -1
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// isKey says whether name is an environment's key: a sha256 in hex.
func isKey(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, c := range name {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// treeSize is the bytes of a tree's files (an environment's own count,
// else a walk).
func treeSize(dir string) int64 {
	if m, err := ReadMeta(dir); err == nil {
		return m.Size
	}
	var n int64
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Prune removes every environment whose key keep does not hold, and what
// builds that died left behind; an environment being built, or whose
// build waits for its lock, stays. It returns how many environments it
// removed and the bytes it freed. The caller keeps the keys of every
// version that may still run: an environment removed under a running
// function is gone from its jail too.
func (b *Builder) Prune(keep map[string]bool) (removed int, freed int64, err error) {
	envs := faashome.Envs(b.Home)
	entries, err := os.ReadDir(envs)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fault.Platformf("read %s: %w", envs, err)
	}
	// withLock runs fn holding key's lock, unless a build holds it.
	withLock := func(key string, fn func()) {
		lock, err := faashome.Lock(faashome.EnvLock(b.Home, key))
		if err != nil {
			return
		}
		defer lock.Close()
		fn()
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(envs, name)
		switch {
		case isKey(name) && e.IsDir() && !keep[name]:
			withLock(name, func() {
				n := treeSize(path)
				// Out of sight at once: never half an environment under its key.
				trash := filepath.Join(envs, ".trash-"+name)
				if os.Rename(path, trash) != nil {
					return
				}
				bundle.RemoveTree(trash)
				_ = os.Remove(faashome.EnvLock(b.Home, name))
				removed, freed = removed+1, freed+n
			})
		case strings.HasPrefix(name, ".tmp-") && len(name) > len(".tmp-")+64:
			key := name[len(".tmp-") : len(".tmp-")+64]
			withLock(key, func() {
				freed += treeSize(path)
				bundle.RemoveTree(path)
				if _, err := os.Lstat(filepath.Join(envs, key)); errors.Is(err, fs.ErrNotExist) {
					_ = os.Remove(faashome.EnvLock(b.Home, key))
				}
			})
		case strings.HasPrefix(name, ".trash-"): // a prune that died
			freed += treeSize(path)
			bundle.RemoveTree(path)
		case strings.HasSuffix(name, ".lock") && isKey(strings.TrimSuffix(name, ".lock")):
			key := strings.TrimSuffix(name, ".lock")
			if _, err := os.Lstat(filepath.Join(envs, key)); errors.Is(err, fs.ErrNotExist) && !keep[key] {
				withLock(key, func() { _ = os.Remove(path) })
			}
		}
	}
	return removed, freed, nil
}

// Usage is how many environments there are and the bytes of their files,
// for `faas doctor`.
func (b *Builder) Usage() (count int, bytes int64, err error) {
	entries, err := os.ReadDir(faashome.Envs(b.Home))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fault.Platformf("read the environments: %w", err)
	}
	for _, e := range entries {
		if isKey(e.Name()) && e.IsDir() {
			count++
			bytes += treeSize(filepath.Join(faashome.Envs(b.Home), e.Name()))
		}
	}
	return count, bytes, nil
}
