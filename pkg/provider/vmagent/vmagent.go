// Package vmagent finds the agent a VM guest runs (Multipass' and QEMU's):
// a static Linux binary of the host's architecture.
package vmagent

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/faasdev/faas/pkg/fault"
)

// The agent a VM runs is a static Linux binary of the guest's (the host's)
// architecture: faas itself is built with cgo for SQLite and links the
// host's glibc, which a guest may not have (Ubuntu 22.04 has 2.35, 24.04
// 2.39). The guest needs only `faas agent`, which cmd/faas-agent is,
// without SQLite, built with CGO_ENABLED=0.

// Name is the static agent shipped beside faas (goreleaser builds it).
const Name = "faas-agent"

// Hint says how to get a static agent.
const Hint = "install the release's faas-agent beside faas, or build one (CGO_ENABLED=0 go build -o faas-agent ./cmd/faas-agent) and point FAAS_AGENT_BINARY at it"

// elfMachines are the ELF machines of the architectures Go builds for
// Linux guests.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// Find returns the agent binary VMs run: FAAS_AGENT_BINARY
// when set, else faas-agent beside the running faas, else the running faas
// itself when it is static. Whatever it finds must pass Check.
func Find() (string, error) {
	if p := os.Getenv("FAAS_AGENT_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fault.Platformf("FAAS_AGENT_BINARY %q: %w", p, err)
		}
		if err := Check(abs); err != nil {
			return "", fault.WithHint(fmt.Errorf("FAAS_AGENT_BINARY: %w", err), Hint)
		}
		return abs, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fault.Platformf("find the faas executable: %w", err)
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	beside := filepath.Join(filepath.Dir(self), Name)
	if _, err := os.Stat(beside); err == nil {
		if err := Check(beside); err != nil {
			return "", fault.WithHint(err, Hint)
		}
		return beside, nil
	}
	if err := Check(self); err != nil {
		return "", fault.WithHint(fault.Platformf("no static agent for VMs: %s is not one (%v), and there is no %s beside it", self, err, Name), Hint)
	}
	return self, nil
}

func readMagic(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [4]byte
	n, err := io.ReadFull(f, b[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	return string(b[:n]), nil
}

// Check refuses a binary a guest could not run: not an ELF file, not
// for Linux on this architecture, or dynamically linked.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fault.Platformf("the agent binary: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fault.Platformf("the agent binary %s is not a regular file", path)
	}
	if magic, err := readMagic(path); err != nil {
		return fault.Platformf("the agent binary: %w", err)
	} else if magic != elf.ELFMAG {
		return fault.Platformf("%s is not a Linux (ELF) binary", path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fault.Platformf("%s is not a valid ELF binary: %w", path, err)
	}
	defer f.Close()
	want, ok := elfMachines[runtime.GOARCH]
	if !ok {
		return fault.Platformf("VMs of %s are not supported", runtime.GOARCH)
	}
	if f.Machine != want || f.Class != elf.ELFCLASS64 {
		return fault.Platformf("%s is a %s binary; the VMs run %s", path, f.Machine, want)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fault.Platformf("%s is not a Linux binary (%s)", path, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fault.Platformf("%s is dynamically linked (cgo): a VM's glibc may not be the host's", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return fault.Platformf("%s is dynamically linked (%s): a VM's libraries may not be the host's", path, libs[0])
	}
	return nil
}
