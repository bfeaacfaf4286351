package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/spare"
)

// waitSpare waits until home has a free spare (pkg/spare), which its
// agents spawn once a function has launched, and returns its id.
func waitSpare(home string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(spare.Root(home), "spare-*", "free"))
		if len(m) > 0 {
			return filepath.Base(filepath.Dir(m[0])), nil
		}
		if time.Now().After(deadline) {
			states, _ := filepath.Glob(filepath.Join(spare.Root(home), "spare-*", "*"))
			logs, _ := filepath.Glob(filepath.Join(faashome.Logs(home), "spare-*.log"))
			var tail []string
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				tail = append(tail, l+": "+string(b))
			}
			return "", fmt.Errorf("no spare became free in %s within 30 s (spares: %v; %s)", home, states, strings.Join(tail, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fromSpare says whether instance's agent was the spare id (its log says
// the spare became it).
func fromSpare(home, instance, id string) bool {
	b, err := os.ReadFile(faashome.Log(home, instance))
	return err == nil && strings.Contains(string(b), "instance="+id) && strings.Contains(string(b), "spare became an instance")
}

// setSpares makes home keep n spares (0: the cold start as it is without).
func setSpares(faas string, env []string, n string) error {
	cmd := exec.Command(faas, "config", "set", "local.spares", n)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("config set local.spares %s: %v: %s", n, err, out)
	}
	return nil
}

// spareMemory is the memory of a free spare's processes (its agent, its
// jail's init, its stem worker), once one is free.
func spareMemory(home string) ([]procMem, error) {
	id, err := waitSpare(home)
	if err != nil {
		return nil, err
	}
	var info spare.Info
	if err := faashome.ReadJSON(filepath.Join(spare.Dir(home, id), "free"), &info); err != nil {
		return nil, err
	}
	time.Sleep(2 * time.Second) // let it settle, as the warm function did
	return functionMemory(info.PID), nil
}
