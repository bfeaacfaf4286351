// Package packaging holds what the .deb and .rpm install besides the
// binary: the systemd units, their settings files and the maintainer
// scripts (goreleaser.yaml's nfpms). Its tests check them.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var units = []string{"faas-serve.service", "faas-worker.service"}

// TestUnitsVerify runs systemd-analyze verify on the units, with the
// binary's path pointed at one that exists here (verify checks it). Any
// line it prints about a unit (an unknown key, a bad value) fails: verify
// exits 0 on those.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("skipped: systemd-analyze is not installed here (the systemd package has it)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "ExecStart=/usr/bin/faas ") {
			t.Fatalf("%s does not run /usr/bin/faas", u)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "/usr/bin/faas", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, dir) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// TestUnitsAreHardened keeps the hardening the units promise, and the
// state where faas keeps it.
func TestUnitsAreHardened(t *testing.T) {
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
			"StateDirectory=faas", "Delegate=yes", "KillMode=mixed", "Environment=FAAS_HOME=/var/lib/faas"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %s", u, want)
			}
		}
	}
}

// TestPackagesShipTheUnits: goreleaser.yaml's nfpms install every file
// here where systemd and the docs look.
func TestPackagesShipTheUnits(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"src: packaging/systemd/faas-serve.service\n        dst: /usr/lib/systemd/system/faas-serve.service",
		"src: packaging/systemd/faas-worker.service\n        dst: /usr/lib/systemd/system/faas-worker.service",
		"src: packaging/systemd/faas.default\n        dst: /etc/default/faas\n        type: config|noreplace",
		"postinstall: packaging/scripts/postinstall.sh", "preremove: packaging/scripts/preremove.sh",
		"src: docs/operations.md",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("goreleaser.yaml lacks %q", want)
		}
	}
	for _, s := range []string{"postinstall.sh", "preremove.sh"} {
		if out, err := exec.Command("sh", "-n", filepath.Join("scripts", s)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
}
