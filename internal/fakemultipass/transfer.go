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

// endpoint is one argument of transfer: a local path or name:path.
type endpoint struct {
	instance string
	path     string
}

func parseEndpoint(a string) endpoint {
	if a == "-" || strings.HasPrefix(a, "/") || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "../") {
		return endpoint{path: a}
	}
	if name, p, ok := strings.Cut(a, ":"); ok && name != "" {
		if p == "" {
			p = "."
		}
		return endpoint{instance: name, path: p}
	}
	return endpoint{path: a}
}

func (c *cli) cmdTransfer(args []string) int {
	p, code, ok := c.parseOrUsage("transfer", args, []opt{{long: "recursive", short: "r"}, {long: "parents", short: "p"}})
	if !ok {
		return code
	}
	if len(p.pos) < 2 {
		return c.usage("Not enough arguments given")
	}
	eps := make([]endpoint, len(p.pos))
	dashes := 0
	for i, a := range p.pos {
		eps[i] = parseEndpoint(a)
		if a == "-" {
			dashes++
		}
	}
	srcs, dst := eps[:len(eps)-1], eps[len(eps)-1]
	if dashes > 1 {
		return c.usage("Only one '-' allowed")
	}
	if dashes == 1 {
		switch {
		case len(p.pos) != 2:
			return c.usage("Only two arguments allowed when using '-'")
		case srcs[0].path == "-" && dst.instance == "":
			return c.usage("Target must be inside an instance")
		case dst.path == "-" && srcs[0].instance == "":
			return c.usage("Source must be from inside an instance")
		}
	}
	fromInstance := 0
	for _, s := range srcs {
		if s.instance != "" {
			fromInstance++
		}
	}
	switch {
	case dst.instance != "" && fromInstance > 0:
		return c.usage("Cannot specify an instance name for both source and destination")
	case dst.instance == "" && fromInstance == 0:
		return c.usage("An instance name is needed for either source or destination")
	case dst.instance == "" && fromInstance != len(srcs):
		return c.usage("All sources must be from inside an instance")
	}
	if code, ok := c.connect("transfer"); !ok {
		return code
	}
	names := []string{dst.instance}
	if dst.instance == "" {
		names = nil
		for _, s := range srcs {
			names = append(names, s.instance)
		}
	}
	s, err := c.open()
	if err != nil {
		return c.fail("transfer", err.Error())
	}
	guests := map[string]*guest{}
	for _, n := range names {
		in := s.find(n)
		switch {
		case in == nil:
			s.close()
			return c.fail("transfer", fmt.Sprintf("instance \"%s\" does not exist", n))
		case in.State == stDeleted:
			s.close()
			return c.fail("transfer", fmt.Sprintf("instance \"%s\" is deleted", n))
		case c.state(in) != stRunning && c.state(in) != stDelayed:
			s.close()
			return c.fail("transfer", fmt.Sprintf("instance \"%s\" is not running", n))
		}
		guests[n] = &guest{c: c, name: n, root: c.root(n), ip: in.IP, cwd: guestHome, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr}
	}
	s.close()
	t := &transfer{c: c, recursive: p.has("recursive"), parents: p.has("parents")}
	if dst.instance != "" {
		return t.push(srcs, guests[dst.instance], dst.path)
	}
	return t.pull(srcs, guests, dst.path)
}

// fromStdin is `transfer - NAME:PATH`: stdin is written to PATH (or to
// PATH/stream_output.dat when PATH is a directory) as the default user,
// created 0664 under the guest sshd's umask 022: 0644. Its errors are
// printed as they are, not logged.
func (t *transfer) fromStdin(g *guest, target string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(t.c.stderr, format+"\n", a...)
		return 2
	}
	gt := g.abs(target)
	if isDirPath(g.host(target)) {
		gt = path.Join(gt, "stream_output.dat")
	}
	h := filepath.Join(g.root, gt)
	if fi, err := os.Stat(h); err == nil && fi.IsDir() {
		return fail("cannot overwrite remote directory %q with non-directory", gt)
	}
	if !isDirPath(filepath.Dir(h)) {
		if !t.parents {
			return fail("remote target does not exist")
		}
		if code := g.mkdirP(path.Dir(gt), 0o775, "[sftp] cannot create remote directory %q: %s"); code != 0 {
			return 2
		}
	}
	if !g.owned(gt) {
		return fail("cannot open remote file %q: Permission denied", gt)
	}
	f, err := os.OpenFile(h, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o664)
	if err != nil {
		return fail("cannot open remote file %q: %v", gt, err)
	}
	defer f.Close()
	_ = f.Chmod(0o644)
	if _, err := io.Copy(f, t.c.stdin); err != nil {
		return fail("cannot write to remote file %q: %v", gt, err)
	}
	return 0
}

type transfer struct {
	c         *cli
	recursive bool
	parents   bool
}

func (t *transfer) sftpError(format string, a ...any) int {
	t.c.logError("sftp", fmt.Sprintf(format, a...))
	return 2
}

// push copies local files into an instance, as the default user over SFTP.
func (t *transfer) push(srcs []endpoint, g *guest, target string) int {
	gt := g.abs(target)
	if srcs[0].path == "-" {
		return t.fromStdin(g, target)
	}
	targetIsDir := isDirPath(g.host(target))
	if len(srcs) > 1 && !targetIsDir {
		if !exists(g.host(target)) && !t.parents {
			return t.sftpError("remote target %q does not exist", gt)
		}
		if exists(g.host(target)) {
			return t.sftpError("remote target %q is not a directory", gt)
		}
	}
	if t.parents && !targetIsDir {
		dir := gt
		if len(srcs) == 1 {
			dir = path.Dir(gt)
		}
		if code := g.mkdirP(dir, 0o775, "[sftp] cannot create remote directory %q: %s"); code != 0 {
			return 2
		}
		targetIsDir = isDirPath(g.host(target))
	}
	code := 0
	for _, src := range srcs {
		fi, err := os.Stat(src.path)
		view := t.c.snapAccess(src.path)
		if err != nil || view == snapAbsent {
			code = t.sftpError("cannot access %q: No such file or directory", src.path)
			continue
		}
		if view == snapDenied {
			what := "file"
			if fi.IsDir() {
				what = "directory"
			}
			code = t.sftpError("cannot open local %s %q: Permission denied", what, src.path)
			continue
		}
		dest := gt
		if targetIsDir {
			dest = path.Join(gt, filepath.Base(src.path))
		}
		if fi.IsDir() {
			if !t.recursive {
				code = t.sftpError("omitting local directory %q: recursive mode not specified", src.path)
				continue
			}
			if c := t.pushTree(g, src.path, dest); c != 0 {
				code = c
			}
			continue
		}
		if c := t.pushFile(g, src.path, dest, fi.Mode()); c != 0 {
			code = c
		}
	}
	return code
}

func (t *transfer) pushFile(g *guest, local, gp string, mode os.FileMode) int {
	h := filepath.Join(g.root, gp)
	if !isDirPath(filepath.Dir(h)) {
		return t.sftpError("remote target does not exist")
	}
	if !g.owned(gp) {
		return t.sftpError("cannot open remote file %s: Permission denied", gp)
	}
	if err := copyFile(local, h, mode.Perm()); err != nil {
		return t.sftpError("cannot write to remote file %s: %v", gp, err)
	}
	return 0
}

func (t *transfer) pushTree(g *guest, local, gp string) int {
	code := 0
	_ = filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			code = t.sftpError("cannot access %q: %v", p, err)
			return nil
		}
		rel, _ := filepath.Rel(local, p)
		dest := path.Join(gp, filepath.ToSlash(rel))
		if d.IsDir() {
			h := filepath.Join(g.root, dest)
			if isDirPath(h) {
				return nil
			}
			if !g.owned(dest) {
				code = t.sftpError("cannot create remote directory %q: Permission denied", dest)
				return filepath.SkipDir
			}
			if err := os.Mkdir(h, 0o775); err != nil {
				code = t.sftpError("cannot create remote directory %q: %v", dest, err)
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			if c := t.pushFile(g, p, dest, fi.Mode()); c != 0 {
				code = c
			}
		}
		return nil
	})
	return code
}

// pull copies files out of instances.
func (t *transfer) pull(srcs []endpoint, guests map[string]*guest, target string) int {
	if target == "-" {
		g := guests[srcs[0].instance]
		gp := g.abs(srcs[0].path)
		fi, err := os.Stat(g.host(srcs[0].path))
		switch {
		case err != nil:
			return t.sftpError("remote source %q does not exist", gp)
		case fi.IsDir():
			return t.sftpError("cannot read from remote file %q: it is a directory", gp)
		case !g.canRead(gp, fi):
			return t.sftpError("cannot open remote file %s: Permission denied", gp)
		}
		f, err := os.Open(g.host(srcs[0].path))
		if err != nil {
			return t.sftpError("cannot open remote file %s: %v", gp, err)
		}
		defer f.Close()
		_, _ = io.Copy(t.c.stdout, f)
		return 0
	}
	targetIsDir := isDirPath(target)
	if len(srcs) > 1 && !targetIsDir {
		if t.parents {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return t.sftpError("cannot create local directory %q: %v", target, err)
			}
			targetIsDir = true
		} else {
			return t.sftpError("target %q is not a directory", target)
		}
	}
	if t.parents && !targetIsDir {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return t.sftpError("cannot create local directory %q: %v", filepath.Dir(target), err)
		}
	}
	code := 0
	for _, src := range srcs {
		g := guests[src.instance]
		gp := g.abs(src.path)
		h := g.host(src.path)
		fi, err := os.Stat(h)
		if err != nil {
			code = t.sftpError("remote source %q does not exist", gp)
			continue
		}
		dest := target
		if targetIsDir {
			dest = filepath.Join(target, path.Base(gp))
		}
		if fi.IsDir() {
			if !t.recursive {
				code = t.sftpError("omitting remote directory %q: recursive mode not specified", gp)
				continue
			}
			err := filepath.WalkDir(h, func(p string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(h, p)
				out := filepath.Join(dest, rel)
				if d.IsDir() {
					return os.MkdirAll(out, 0o755)
				}
				info, err := d.Info()
				if err != nil || !info.Mode().IsRegular() {
					return err
				}
				return copyFile(p, out, info.Mode().Perm())
			})
			if err != nil {
				code = t.sftpError("cannot copy %q: %v", gp, err)
			}
			continue
		}
		if !g.canRead(gp, fi) {
			code = t.sftpError("cannot open remote file %s: Permission denied", gp)
			continue
		}
		switch t.c.snapAccess(dest) {
		case snapDenied:
			code = t.sftpError("cannot open local file %q: Permission denied", dest)
			continue
		case snapAbsent:
			// Written into the snap's own /tmp: the host never sees it.
			continue
		}
		if err := copyFile(h, dest, fi.Mode().Perm()); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				code = t.sftpError("local target does not exist")
			} else {
				code = t.sftpError("cannot write to local file %q: %v", dest, err)
			}
		}
	}
	return code
}
