package bundle

import (
	"path"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
)

// HandlerFiles are the files a bundle's handler is looked for at its root
// when --handler names none, in order.
var HandlerFiles = []string{"main.py", "handler.py", "index.js", "handler.js", "main.js", "index.mjs", "handler.sh", "main.sh"}

// ParseHandler splits the value of --handler FILE[:FUNCTION]. A value
// without ":" is a file when it has a "/" or an extension ("handler.py",
// "src/app"), else a function name alone ("handler"), as --handler NAME
// was before bundles.
func ParseHandler(s string) (file, fn string) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	if strings.Contains(s, "/") || path.Ext(s) != "" {
		return s, ""
	}
	return "", s
}

// FindHandlerFile returns the file of b to run: want (the FILE of
// --handler), which must be in b; else the only file of a one-file
// bundle; else the first of HandlerFiles at b's root.
func FindHandlerFile(b *Bundle, want string) (string, error) {
	if want != "" {
		p := strings.TrimPrefix(path.Clean(want), "./")
		if !b.Has(p) {
			return "", fault.WithHint(fault.Usagef("--handler %q: no such file in the bundle", want),
				"name a file relative to the bundle's root, e.g. --handler src/main.py:handler")
		}
		return p, nil
	}
	if b.Single() {
		return b.files[0].Path, nil
	}
	for _, f := range HandlerFiles {
		if b.Has(f) {
			return f, nil
		}
	}
	return "", fault.WithHint(fault.Usagef("no handler file at the bundle's root: looked for %s", strings.Join(HandlerFiles, ", ")),
		"name one with --handler FILE[:FUNCTION]")
}
