package fakemultipass

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

func (g *guest) cat(args []string) int {
	var ops []string
	for _, a := range args {
		if a == "-" || !strings.HasPrefix(a, "-") {
			ops = append(ops, a)
		}
	}
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, op := range ops {
		if op == "-" {
			_, _ = io.Copy(g.stdout, g.stdin)
			continue
		}
		h := g.host(op)
		fi, err := os.Stat(h)
		switch {
		case err != nil:
			code = g.errf("cat: %s: No such file or directory", op)
		case fi.IsDir():
			code = g.errf("cat: %s: Is a directory", op)
		case !g.canRead(g.abs(op), fi):
			code = g.errf("cat: %s: Permission denied", op)
		default:
			f, err := os.Open(h)
			if err != nil {
				code = g.errf("cat: %s: %v", op, err)
				continue
			}
			_, _ = io.Copy(g.stdout, f)
			f.Close()
		}
	}
	return code
}

func (g *guest) test(args []string) int {
	neg := false
	if len(args) > 0 && args[0] == "!" {
		neg, args = true, args[1:]
	}
	var r bool
	switch len(args) {
	case 0:
	case 1:
		r = args[0] != ""
	case 2:
		op, p := args[0], args[1]
		fi, err := os.Stat(g.host(p))
		switch op {
		case "-n":
			r = p != ""
		case "-z":
			r = p == ""
		case "-e":
			r = err == nil
		case "-f":
			r = err == nil && fi.Mode().IsRegular()
		case "-d":
			r = err == nil && fi.IsDir()
		case "-s":
			r = err == nil && fi.Size() > 0
		case "-x":
			r = err == nil && fi.Mode()&0o111 != 0
		case "-r":
			r = err == nil && g.canRead(g.abs(p), fi)
		case "-w":
			r = err == nil && g.owned(g.abs(p))
		case "-L", "-h":
			lfi, lerr := os.Lstat(g.host(p))
			r = lerr == nil && lfi.Mode()&os.ModeSymlink != 0
		default:
			fmt.Fprintf(g.stderr, "test: %s: unary operator expected\n", op)
			return 2
		}
	case 3:
		a, op, b := args[0], args[1], args[2]
		switch op {
		case "=", "==":
			r = a == b
		case "!=":
			r = a != b
		default:
			var x, y int
			if _, err := fmt.Sscan(a, &x); err != nil {
				fmt.Fprintf(g.stderr, "test: %s: integer expression expected\n", a)
				return 2
			}
			if _, err := fmt.Sscan(b, &y); err != nil {
				fmt.Fprintf(g.stderr, "test: %s: integer expression expected\n", b)
				return 2
			}
			switch op {
			case "-eq":
				r = x == y
			case "-ne":
				r = x != y
			case "-lt":
				r = x < y
			case "-le":
				r = x <= y
			case "-gt":
				r = x > y
			case "-ge":
				r = x >= y
			default:
				fmt.Fprintf(g.stderr, "test: %s: binary operator expected\n", op)
				return 2
			}
		}
	default:
		fmt.Fprintln(g.stderr, "test: too many arguments")
		return 2
	}
	if r != neg {
		return 0
	}
	return 1
}

// chmodMode applies a chmod mode (octal, or symbolic like u+x,go-w) to base.
func chmodMode(spec string, base os.FileMode) (os.FileMode, error) {
	if spec == "" {
		return 0, errors.New("empty mode")
	}
	if strings.Trim(spec, "01234567") == "" {
		var n uint64
		for _, r := range spec {
			n = n*8 + uint64(r-'0')
		}
		if n > 0o7777 {
			return 0, errors.New("bad mode")
		}
		return unixMode(n), nil
	}
	m := base
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who os.FileMode
		for ; i < len(clause) && strings.ContainsRune("ugoa", rune(clause[i])); i++ {
			switch clause[i] {
			case 'u':
				who |= 0o700
			case 'g':
				who |= 0o070
			case 'o':
				who |= 0o007
			case 'a':
				who |= 0o777
			}
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) || !strings.ContainsRune("+-=", rune(clause[i])) {
			return 0, errors.New("bad mode")
		}
		op := clause[i]
		var bits os.FileMode
		for _, r := range clause[i+1:] {
			switch r {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x', 'X':
				bits |= 0o111
			case 's', 't':
			default:
				return 0, errors.New("bad mode")
			}
		}
		bits &= who
		switch op {
		case '+':
			m |= bits
		case '-':
			m &^= bits
		case '=':
			m = m&^who | bits
		}
	}
	return m, nil
}

func (g *guest) chmod(args []string) int {
	recursive := false
	var ops []string
	for _, a := range args {
		switch a {
		case "-R", "--recursive":
			recursive = true
		case "-f", "-v", "-c", "--silent", "--quiet", "--verbose", "--changes":
		default:
			ops = append(ops, a)
		}
	}
	if len(ops) < 2 {
		if len(ops) == 0 {
			return g.errf("chmod: missing operand")
		}
		return g.errf("chmod: missing operand after '%s'", ops[0])
	}
	spec := ops[0]
	if _, err := chmodMode(spec, 0); err != nil {
		return g.errf("chmod: invalid mode: '%s'", spec)
	}
	code := 0
	apply := func(op, h, gp string) {
		fi, err := os.Stat(h)
		if err != nil {
			code = g.errf("chmod: cannot access '%s': No such file or directory", op)
			return
		}
		if !g.owned(gp) {
			code = g.errf("chmod: changing permissions of '%s': Operation not permitted", op)
			return
		}
		m, _ := chmodMode(spec, fi.Mode()&os.ModePerm)
		_ = os.Chmod(h, m)
	}
	for _, op := range ops[1:] {
		h, gp := g.host(op), g.abs(op)
		apply(op, h, gp)
		if recursive && isDirPath(h) {
			_ = filepath.WalkDir(h, func(p string, d os.DirEntry, err error) error {
				if err != nil || p == h {
					return nil
				}
				rel, _ := filepath.Rel(h, p)
				apply(path.Join(op, filepath.ToSlash(rel)), p, path.Join(gp, filepath.ToSlash(rel)))
				return nil
			})
		}
	}
	return code
}

func (g *guest) rm(args []string) int {
	fs, ops, bad := parseShimFlags(args,
		map[string]string{"-f": "f", "--force": "f", "-r": "r", "-R": "r", "--recursive": "r", "-v": "", "--verbose": "", "-d": "d", "--dir": "d"},
		map[string]string{})
	if bad != "" {
		return g.errf("rm: %s", bad)
	}
	if len(ops) == 0 {
		if fs.bools["f"] {
			return 0
		}
		return g.errf("rm: missing operand")
	}
	code := 0
	for _, op := range ops {
		gp, h := g.abs(op), g.host(op)
		fi, err := os.Lstat(h)
		switch {
		case gp == "/":
			code = g.errf("rm: it is dangerous to operate recursively on '/'")
		case err != nil:
			if !fs.bools["f"] {
				code = g.errf("rm: cannot remove '%s': No such file or directory", op)
			}
		case fi.IsDir() && !fs.bools["r"] && !fs.bools["d"]:
			code = g.errf("rm: cannot remove '%s': Is a directory", op)
		case !g.owned(path.Dir(gp)) && !g.owned(gp):
			code = g.errf("rm: cannot remove '%s': Permission denied", op)
		case fs.bools["r"]:
			if err := os.RemoveAll(h); err != nil {
				code = g.errf("rm: cannot remove '%s': %v", op, err)
			}
		default:
			if err := os.Remove(h); err != nil {
				code = g.errf("rm: cannot remove '%s': %v", op, err)
			}
		}
	}
	return code
}
