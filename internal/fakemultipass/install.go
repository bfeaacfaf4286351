package fakemultipass

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// shortFlags splits "-Dm644"-style option clusters: value options take the
// rest of the cluster or the next argument.
type flagSet struct {
	bools  map[string]bool
	values map[string]string
}

func parseShimFlags(args []string, boolFlags, valueFlags map[string]string) (flagSet, []string, string) {
	fs := flagSet{bools: map[string]bool{}, values: map[string]string{}}
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return fs, append(ops, args[i+1:]...), ""
		case strings.HasPrefix(a, "--"):
			k, v, hasV := strings.Cut(a, "=")
			if name, ok := valueFlags[k]; ok {
				if !hasV {
					if i+1 >= len(args) {
						return fs, ops, fmt.Sprintf("option '%s' requires an argument", k)
					}
					i++
					v = args[i]
				}
				fs.values[name] = v
			} else if name, ok := boolFlags[k]; ok {
				fs.bools[name] = true
			} else {
				return fs, ops, fmt.Sprintf("unrecognized option '%s'", a)
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				f := "-" + a[j:j+1]
				if name, ok := valueFlags[f]; ok {
					v := a[j+1:]
					if v == "" {
						if i+1 >= len(args) {
							return fs, ops, fmt.Sprintf("option requires an argument -- '%s'", a[j:j+1])
						}
						i++
						v = args[i]
					}
					fs.values[name] = v
					break
				}
				name, ok := boolFlags[f]
				if !ok {
					return fs, ops, fmt.Sprintf("invalid option -- '%s'", a[j:j+1])
				}
				fs.bools[name] = true
			}
		default:
			ops = append(ops, a)
		}
	}
	return fs, ops, ""
}

func (g *guest) install(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-d": "d", "--directory": "d", "-D": "D", "-c": "", "-C": "", "--compare": "", "-p": "", "--preserve-timestamps": "", "-s": "", "--strip": "", "-v": "", "--verbose": ""},
		map[string]string{"-m": "m", "--mode": "m", "-o": "o", "--owner": "o", "-g": "g", "--group": "g", "-t": "t", "--target-directory": "t"})
	if bad != "" {
		return g.errf("install: %s", bad)
	}
	mode := os.FileMode(0o755)
	if m, ok := fs.values["m"]; ok {
		var err error
		if mode, err = chmodMode(m, 0); err != nil {
			return g.errf("install: invalid mode '%s'", m)
		}
	}
	if fs.bools["d"] {
		code := 0
		for _, op := range ops {
			if c := g.mkdirP(op, mode, "install: cannot create directory '%s': %s"); c != 0 {
				code = c
			}
		}
		return code
	}
	dst, srcs := "", ops
	toDir := false
	if t, ok := fs.values["t"]; ok {
		dst, toDir = t, true
		if fs.bools["D"] {
			if c := g.mkdirP(dst, 0o755, "install: cannot create directory '%s': %s"); c != 0 {
				return c
			}
		}
	} else {
		switch len(ops) {
		case 0:
			return g.errf("install: missing file operand")
		case 1:
			return g.errf("install: missing destination file operand after '%s'", ops[0])
		}
		dst, srcs = ops[len(ops)-1], ops[:len(ops)-1]
		fi, err := os.Stat(g.host(dst))
		toDir = len(srcs) > 1 || (err == nil && fi.IsDir())
		if fs.bools["D"] && !toDir {
			if c := g.mkdirP(path.Dir(g.abs(dst)), 0o755, "install: cannot create directory '%s': %s"); c != 0 {
				return c
			}
		}
	}
	if toDir {
		if fi, err := os.Stat(g.host(dst)); err != nil || !fi.IsDir() {
			return g.errf("install: target '%s' is not a directory", dst)
		}
	}
	code := 0
	for _, src := range srcs {
		target := dst
		if toDir {
			target = strings.TrimSuffix(dst, "/") + "/" + path.Base(src)
		}
		if c := g.installFile(src, target, mode); c != 0 {
			code = c
		}
	}
	return code
}

func (g *guest) installFile(src, target string, mode os.FileMode) int {
	fi, err := os.Stat(g.host(src))
	switch {
	case err != nil:
		return g.errf("install: cannot stat '%s': No such file or directory", src)
	case fi.IsDir():
		return g.errf("install: omitting directory '%s'", src)
	case !g.canRead(g.abs(src), fi):
		return g.errf("install: cannot open '%s' for reading: Permission denied", src)
	}
	gt := g.abs(target)
	if !isDirPath(filepath.Dir(g.host(target))) {
		return g.errf("install: cannot create regular file '%s': No such file or directory", target)
	}
	if !g.owned(gt) {
		return g.errf("install: cannot create regular file '%s': Permission denied", target)
	}
	if err := copyFile(g.host(src), g.host(target), mode); err != nil {
		return g.errf("install: cannot create regular file '%s': %v", target, err)
	}
	return 0
}

func isDirPath(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// copyFile writes dst anew (a new inode, as install does, so a running
// binary can be replaced) with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".install-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// mkdirP creates a directory and its parents, checking each created one.
func (g *guest) mkdirP(p string, mode os.FileMode, errFormat string) int {
	gp := g.abs(p)
	cur := "/"
	for _, part := range strings.Split(strings.TrimPrefix(gp, "/"), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		// Like GNU mkdir -p, name the component that failed, as given.
		shown := cur
		if !strings.HasPrefix(p, "/") {
			if rel, err := filepath.Rel(g.cwd, cur); err == nil {
				shown = rel
			}
		}
		h := filepath.Join(g.root, cur)
		fi, err := os.Stat(h)
		if err == nil {
			if !fi.IsDir() {
				return g.errf(errFormat, shown, "File exists")
			}
			continue
		}
		if !g.owned(cur) {
			return g.errf(errFormat, shown, "Permission denied")
		}
		if err := os.Mkdir(h, 0o755); err != nil && !os.IsExist(err) {
			return g.errf(errFormat, shown, err.Error())
		}
		if cur == gp {
			_ = os.Chmod(h, mode)
		}
	}
	return 0
}

func (g *guest) mkdir(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-p": "p", "--parents": "p", "-v": "", "--verbose": ""},
		map[string]string{"-m": "m", "--mode": "m"})
	if bad != "" {
		return g.errf("mkdir: %s", bad)
	}
	if len(ops) == 0 {
		return g.errf("mkdir: missing operand")
	}
	mode := os.FileMode(0o755)
	if m, ok := fs.values["m"]; ok {
		var err error
		if mode, err = chmodMode(m, 0o777); err != nil {
			return g.errf("mkdir: invalid mode '%s'", m)
		}
	}
	code := 0
	for _, op := range ops {
		if fs.bools["p"] {
			if c := g.mkdirP(op, mode, "mkdir: cannot create directory '%s': %s"); c != 0 {
				code = c
			}
			continue
		}
		gp := g.abs(op)
		h := g.host(op)
		switch {
		case exists(h):
			code = g.errf("mkdir: cannot create directory '%s': File exists", op)
		case !isDirPath(filepath.Dir(h)):
			code = g.errf("mkdir: cannot create directory '%s': No such file or directory", op)
		case !g.owned(gp):
			code = g.errf("mkdir: cannot create directory '%s': Permission denied", op)
		default:
			if err := os.Mkdir(h, 0o755); err != nil {
				code = g.errf("mkdir: cannot create directory '%s': %v", op, err)
				continue
			}
			_ = os.Chmod(h, mode)
		}
	}
	return code
}
