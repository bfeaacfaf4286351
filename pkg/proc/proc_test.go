package proc

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestTreeUsageCountsDescendants(t *testing.T) {
	// A shell whose child burns CPU: the tree's CPU grows, the shell's not.
	cmd := exec.Command("/bin/sh", "-c", "while :; do :; done & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, own := Usage(cmd.Process.Pid)
		rss, tree := TreeUsage(cmd.Process.Pid)
		if tree >= own+0.05 && rss > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree CPU %.2fs, own %.2fs", tree, own)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
