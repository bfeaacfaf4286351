package bundle

import (
	"strings"
	"unicode/utf8"

	"github.com/faasdev/faas/pkg/fault"
)

// Limits on a path inside a bundle, after what Linux accepts for one
// component (NAME_MAX) and a margin under PATH_MAX once a bundle is
// unpacked below an instance's home.
const (
	MaxComponent = 255
	MaxPath      = 1024
)

// cleanEntry turns an archive entry's name into a bundle path: a leading
// "./" and a trailing "/" (a directory) are dropped, and anything that could
// land outside the tree or be read two ways is refused, naming the entry.
// root reports an entry that names the tree itself ("." or "./").
func cleanEntry(name string) (p string, root bool, err error) {
	if !utf8.ValidString(name) {
		return "", false, fault.Usagef("entry %q: the name is not valid UTF-8", name)
	}
	p = name
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	p = strings.TrimSuffix(p, "/")
	if p == "" || p == "." {
		return "", true, nil
	}
	if err := checkPath(p); err != nil {
		return "", false, fault.Usagef("entry %q: %w", name, err)
	}
	return p, false, nil
}

// checkPath validates a slash-separated relative path: UTF-8, no NUL,
// backslash or control character, not absolute, no empty, "." or ".."
// component, each component at most MaxComponent bytes and the whole at
// most MaxPath.
func checkPath(p string) error {
	switch {
	case p == "":
		return fault.Usagef("the name is empty")
	case !utf8.ValidString(p):
		return fault.Usagef("the name is not valid UTF-8")
	case len(p) > MaxPath:
		return fault.Usagef("the name is %d bytes long, over %d", len(p), MaxPath)
	case strings.HasPrefix(p, "/"):
		return fault.Usagef("the name is an absolute path")
	case strings.ContainsRune(p, 0):
		return fault.Usagef("the name holds a NUL byte")
	case strings.ContainsRune(p, '\\'):
		return fault.Usagef("the name holds a backslash")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fault.Usagef("the name holds a control character")
		}
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "..":
			return fault.Usagef("the name climbs out of the tree with ..")
		case c == "" || c == ".":
			return fault.Usagef("the name has an empty or . component")
		case len(c) > MaxComponent:
			return fault.Usagef("a component of the name is %d bytes long, over %d", len(c), MaxComponent)
		}
	}
	return nil
}
