package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
)

// findNPM finds npm's own script (npm-cli.js), which the build runs with
// the function's node: npm on PATH when it is that script or a link to it
// (NodeSource's, nvm's), else the one that comes with node.
func (b *Builder) findNPM(node string) (string, error) {
	if p, err := b.interp().LookPath("npm"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && nodeScript(real) {
			return real, nil
		}
	}
	beside := filepath.Join(filepath.Dir(filepath.Dir(node)), "lib", "node_modules", "npm", "bin", "npm-cli.js")
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() {
		return beside, nil
	}
	return "", fault.WithHint(fault.Platformf("building a node function's dependencies needs npm, which was not found"),
		"install npm (it comes with Node.js) or put it on PATH")
}

// nodeScript says whether path is a script node runs.
func nodeScript(path string) bool {
	if strings.HasSuffix(path, ".js") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line := make([]byte, 128)
	n, _ := f.Read(line)
	first, _, _ := strings.Cut(string(line[:n]), "\n")
	return strings.HasPrefix(first, "#!") && strings.HasSuffix(strings.TrimSpace(first), "node")
}

// packageJSON is what a build reads of package.json.
type packageJSON struct {
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
}

// packageLock is what a build reads of package-lock.json: version 2 and 3
// list packages by path, version 1 dependencies by name.
type packageLock struct {
	Packages map[string]struct {
		Resolved string `json:"resolved"`
		Link     bool   `json:"link"`
	} `json:"packages"`
	Dependencies map[string]struct {
		Version string `json:"version"`
	} `json:"dependencies"`
}

// lockName is the lock file among files: npm-shrinkwrap.json wins, as it
// does for npm.
func lockName(files map[string][]byte) string {
	for _, n := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		if _, ok := files[n]; ok {
			return n
		}
	}
	return ""
}

// localSpec is the path a dependency's spec names when it is local
// ("file:vendor/x.tgz", "./lib").
func localSpec(spec string) (string, bool) {
	if rest, ok := strings.CutPrefix(spec, "file:"); ok {
		return rest, true
	}
	for _, p := range []string{"./", "../", "/", "~/"} {
		if strings.HasPrefix(spec, p) {
			return spec, true
		}
	}
	return "", false
}

// localDeps finds the package's local dependencies (a tarball or a
// directory named by file: or a path, in package.json or its lock), which
// must be inside the function's directory: they are copied into the
// environment where npm looks for them, and their content is in the key.
func (p *plan) localDeps(local map[string]string) error {
	var pkg packageJSON
	var lock packageLock
	if err := json.Unmarshal(p.spec.Files["package.json"], &pkg); err != nil {
		return fault.Usagef("package.json: %w", err)
	}
	name := lockName(p.spec.Files)
	if err := json.Unmarshal(p.spec.Files[name], &lock); err != nil {
		return fault.Usagef("%s: %w", name, err)
	}
	seen := map[string]string{}
	for _, deps := range []map[string]string{pkg.Dependencies, pkg.OptionalDependencies, pkg.PeerDependencies, pkg.DevDependencies} {
		for dep, spec := range deps {
			if rel, ok := localSpec(spec); ok {
				seen[rel] = "package.json: " + dep
			}
		}
	}
	for path, e := range lock.Packages {
		if rel, ok := strings.CutPrefix(e.Resolved, "file:"); ok {
			seen[rel] = name + ": " + path
		}
		if path != "" && !strings.HasPrefix(path, "node_modules/") && !strings.Contains(path, "/node_modules/") {
			seen[path] = name + ": " + path // a linked directory's own entry
		}
	}
	for dep, e := range lock.Dependencies {
		if rel, ok := localSpec(e.Version); ok {
			seen[rel] = name + ": " + dep
		}
	}
	if len(seen) == 0 {
		return nil
	}
	src := p.spec.SourceDir
	if src == "" {
		return fault.Usagef("%s has local dependencies, which need the function's directory", name)
	}
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return fault.Usagef("the function's directory: %w", err)
	}
	clean := map[string]string{}
	for rel, where := range seen {
		c := filepath.Clean(filepath.FromSlash(rel))
		if !filepath.IsLocal(c) {
			return fault.Usagef("%s names %q, outside the function's directory: a local dependency must be inside it", where, rel)
		}
		clean[c] = where
	}
	for rel, where := range clean {
		if inside(rel, clean) {
			continue // copied with the directory it is in
		}
		real, err := filepath.EvalSymlinks(filepath.Join(root, rel))
		if err != nil {
			return fault.Usagef("%s names %q: %w", where, rel, err)
		}
		if r, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(r) {
			return fault.Usagef("%s names %q, which leads outside the function's directory", where, rel)
		}
		if local[rel], err = hashTree(real); err != nil {
			return fault.Usagef("%s names %q: %w", where, rel, err)
		}
		p.local = append(p.local, rel)
	}
	sort.Strings(p.local)
	return nil
}

// inside says whether one of paths is a directory above rel.
func inside(rel string, paths map[string]string) bool {
	for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
		if _, ok := paths[d]; ok {
			return true
		}
	}
	return false
}

// skipped are directories of a local dependency that are not copied: what
// npm makes or a checkout has.
func skipped(name string) bool { return name == "node_modules" || name == ".git" }

// walkLocal calls fn with every directory and regular file of a local
// dependency (a file, or a directory's tree without node_modules and
// .git); symbolic links and special files are left out.
func walkLocal(root string, fn func(rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && skipped(d.Name()) {
			return filepath.SkipDir
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		return fn(rel, d)
	})
}

// hashTree is the sha256 of a file, or of a directory's paths, modes and
// contents.
func hashTree(root string) (string, error) {
	h := sha256.New()
	err := walkLocal(root, func(rel string, d fs.DirEntry) error {
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %o\n", filepath.ToSlash(rel), fi.Mode())
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// copyLocal copies a local dependency to dst, as hashTree sees it.
func copyLocal(src, dst string) error {
	return walkLocal(src, func(rel string, d fs.DirEntry) error {
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		in, err := os.Open(filepath.Join(src, rel))
		if err != nil {
			return err
		}
		defer in.Close()
		fi, err := in.Stat()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm()&0o755|0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
}
