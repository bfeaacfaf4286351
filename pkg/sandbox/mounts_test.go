package sandbox

import (
	"reflect"
	"testing"
)

// TestProgramMounts: a jail gets an interpreter's prefix, never a
// home directory or the root; an interpreter under /usr needs nothing.
func TestProgramMounts(t *testing.T) {
	for _, c := range []struct {
		prog string
		want []Mount
	}{
		{"", nil},
		{"/usr/bin/python3", nil},
		{"/root/.pyenv/versions/3.11.7/bin/python3.11", []Mount{{Source: "/root/.pyenv/versions/3.11.7", Target: "/root/.pyenv/versions/3.11.7"}}},
		{"/opt/node/bin/node", []Mount{{Source: "/opt/node", Target: "/opt/node"}}},
		{"/root/bin/python3", []Mount{{Source: "/root/bin/python3", Target: "/root/bin/python3"}}},
		{"/home/ada/bin/node", []Mount{{Source: "/home/ada/bin/node", Target: "/home/ada/bin/node"}}},
		{"/x/python3", []Mount{{Source: "/x/python3", Target: "/x/python3"}}},
	} {
		if got := ProgramMounts(c.prog); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ProgramMounts(%q) = %v, want %v", c.prog, got, c.want)
		}
	}
}
