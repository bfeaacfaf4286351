package fakemultipass

import (
	"debug/elf"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// guestLoaders are the ELF interpreters of Ubuntu guests, by machine. A
// guest runs the host's architecture (Multipass runs VMs natively).
var guestLoaders = map[elf.Machine]string{
	elf.EM_X86_64:  "/lib64/ld-linux-x86-64.so.2",
	elf.EM_AARCH64: "/lib/ld-linux-aarch64.so.1",
	elf.EM_PPC64:   "/lib64/ld64.so.2",
	elf.EM_S390:    "/lib/ld64.so.1",
	elf.EM_RISCV:   "/lib/ld-linux-riscv64-lp64d.so.1",
}

var goarchMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// execRefusal says why a guest could not run the program at host path h
// (shown as the guest path gp), with the exit code bash gives, or "" when
// it can. Scripts and non-ELF files are not checked. An ELF for another
// machine fails as the kernel refuses it; a dynamically linked one needs
// the guest's loader and glibc, and even then the stand-in refuses it: it
// runs guest programs on the host, where they would load the host's
// libraries, so it cannot run them as the guest would. Only static
// programs brought into a guest run.
func execRefusal(h, gp, glibc string) (string, int) {
	f, err := elf.Open(h)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	if want, ok := goarchMachine[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Sprintf("bash: line 1: %s: cannot execute binary file: Exec format error", gp), 126
	}
	interp := ""
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err == nil {
				interp = strings.TrimRight(string(b), "\x00")
			}
		}
	}
	libs, _ := f.ImportedLibraries()
	if interp == "" && len(libs) == 0 {
		return "", 0
	}
	if interp != guestLoaders[f.Machine] {
		return fmt.Sprintf("bash: line 1: %s: cannot execute: required file not found", gp), 127
	}
	if need := newestGLIBC(f); need != "" && versionLess(glibc, need) {
		return fmt.Sprintf("%s: /lib/%s/libc.so.6: version `GLIBC_%s' not found (required by %s)", gp, multiarch(f.Machine), need, gp), 1
	}
	return fmt.Sprintf("bash: line 1: %s: cannot execute: the stand-in multipass runs only static programs brought into a guest (this one is dynamically linked, interpreter %s)", gp, interp), 126
}

// newestGLIBC is the newest GLIBC_x.y symbol version a program needs.
func newestGLIBC(f *elf.File) string {
	syms, err := f.ImportedSymbols()
	if err != nil {
		return ""
	}
	newest := ""
	for _, s := range syms {
		if v, ok := strings.CutPrefix(s.Version, "GLIBC_"); ok && (newest == "" || versionLess(newest, v)) {
			newest = v
		}
	}
	return newest
}

// versionLess compares dotted versions numerically (2.9 < 2.34).
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func multiarch(m elf.Machine) string {
	switch m {
	case elf.EM_AARCH64:
		return "aarch64-linux-gnu"
	case elf.EM_PPC64:
		return "powerpc64le-linux-gnu"
	case elf.EM_S390:
		return "s390x-linux-gnu"
	case elf.EM_RISCV:
		return "riscv64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}
