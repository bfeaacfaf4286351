package sandbox

import (
	"path/filepath"
	"strings"
)

// ProgramMounts are what a jail needs of a program outside /usr (which
// every jail has), an interpreter or a tool run by one (npm's
// npm-cli.js): its installation prefix (pyenv's
// /root/.pyenv/versions/3.11.7, nvm's node), bound read-only at its own
// path. A prefix that is a home directory or shallower (a FAAS_PYTHON of
// /root/bin/python3) would bring the whole home into every jail: then only
// the program itself is bound.
func ProgramMounts(prog string) []Mount {
	if prog == "" {
		return nil
	}
	if real, err := filepath.EvalSymlinks(prog); err == nil {
		prog = real // /bin/bash is /usr/bin/bash on a merged-/usr system
	}
	if strings.HasPrefix(prog, "/usr/") {
		return nil
	}
	prefix := filepath.Dir(filepath.Dir(prog))
	parts := strings.Split(strings.Trim(prefix, "/"), "/")
	home := parts[0] == "root" && len(parts) < 2 || parts[0] == "home" && len(parts) < 3
	if prefix == "/" || home {
		return []Mount{{Source: prog, Target: prog}}
	}
	return []Mount{{Source: prefix, Target: prefix}}
}
