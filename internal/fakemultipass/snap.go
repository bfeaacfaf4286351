package fakemultipass

import (
	"os"
	"path/filepath"
	"strings"
)

// EnvHomeDirs lists (colon-separated) the directories whose subdirectories
// are users' homes, as snapd's `homedirs` system setting does (default
// /home; /root is always a home). The snap's AppArmor rules are written
// against these homes, not against $HOME.
const EnvHomeDirs = "FAAS_FAKE_MULTIPASS_HOMEDIRS"

// snapView is what the snap-confined client sees of a host path.
type snapView int

const (
	// snapVisible: it may read and write it (the home interface).
	snapVisible snapView = iota
	// snapDenied: the path is there but AppArmor refuses it (a hidden
	// top-level entry of a home, another snap's data, /etc, /var…).
	snapDenied
	// snapAbsent: the snap's mount namespace does not show the host's
	// file at all: /tmp is private to the snap, /usr is the base snap's.
	snapAbsent
)

// snapAccess applies the rules of the `home` interface (read: all) the
// multipass snap plugs (snap/snapcraft.yaml; snapd
// interfaces/builtin/home.go): under a home, everything but top-level
// hidden entries and ~/snap (other than its own ~/snap/multipass) is
// visible; /tmp and /usr are the snap's own; the rest is denied.
func (c *cli) snapAccess(p string) snapView {
	abs, err := filepath.Abs(p)
	if err != nil {
		return snapDenied
	}
	abs = resolveExisting(abs)
	for _, home := range c.homes(abs) {
		rel, err := filepath.Rel(home, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		if rel == "." {
			return snapVisible
		}
		first, _, _ := strings.Cut(rel, "/")
		switch {
		case strings.HasPrefix(first, "."):
			return snapDenied
		case first == "snap" && rel != "snap" && !under(rel, "snap/multipass"):
			return snapDenied
		}
		return snapVisible
	}
	switch {
	case under(abs, "/tmp") || under(abs, "/usr"):
		return snapAbsent
	case under(abs, "/var/snap/multipass") || under(abs, "/snap/multipass"):
		return snapVisible
	}
	return snapDenied
}

// homes lists the homes that could hold p: /root and the directory of p
// right under a homedirs entry.
func (c *cli) homes(p string) []string {
	out := []string{"/root"}
	dirs := listEnvSep(c.getenv(EnvHomeDirs), ":")
	if len(dirs) == 0 {
		dirs = []string{"/home"}
	}
	for _, d := range dirs {
		d = resolveExisting(filepath.Clean(d))
		rel, err := filepath.Rel(d, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		user, _, _ := strings.Cut(rel, "/")
		out = append(out, filepath.Join(d, user))
	}
	return out
}

// resolveExisting resolves the symlinks of the longest existing prefix of
// p, as AppArmor mediates the path a file really has.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

func listEnvSep(v, sep string) []string {
	var out []string
	for _, s := range strings.Split(v, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readLocal reads a host file as the snap-confined client can: what the
// snap cannot see is missing, what AppArmor denies is a permission error.
func (c *cli) readLocal(p string) ([]byte, error) {
	switch c.snapAccess(p) {
	case snapAbsent:
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	case snapDenied:
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrPermission}
	}
	return os.ReadFile(p)
}
