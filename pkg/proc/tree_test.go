package proc

import (
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
)

// A detached child (its own session: an agent's spare) is not in its
// parent's tree; an ordinary one is.
func TestTreeLeavesOutDetachedChildren(t *testing.T) {
	start := func(detached bool) *exec.Cmd {
		c := exec.Command("sleep", "30")
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: detached, Setpgid: !detached}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	own, detached := start(false), start(true)
	tree := Tree(os.Getpid())
	if !slices.Contains(tree, own.Process.Pid) {
		t.Errorf("the child %d is not in the tree %v", own.Process.Pid, tree)
	}
	if slices.Contains(tree, detached.Process.Pid) {
		t.Errorf("the detached child %d is in the tree %v", detached.Process.Pid, tree)
	}
}
