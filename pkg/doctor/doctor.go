// Package doctor checks what faas depends on here: the providers, KVM,
// the runtimes, the sandbox and the database (`faas doctor`).
package doctor

import (
	"fmt"

	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/faasdev/faas/pkg/build"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/sandbox"
	"github.com/faasdev/faas/pkg/store/postgres"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// Check is one line of `faas doctor`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fatal says faas cannot work while this check fails (the database):
	// doctor then exits non-zero.
	Fatal bool `json:"-"`
}

// Run checks what faas depends on. It opens no database it would not
// otherwise have.
func Run(ctx context.Context, home string) []Check {
	var out []Check
	add := func(name string, ok bool, detail string) {
		out = append(out, Check{Name: name, OK: ok, Detail: detail})
	}

	for _, reg := range provider.Registered() {
		if reg.Detect != nil {
			av := reg.Detect(ctx)
			add(reg.Name, av.Usable, av.Detail)
		}
	}

	// /dev/kvm can exist where only software (nested) virtualisation is
	// there; only the CPU flags say the hardware does it.
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	flags := " " + strings.ReplaceAll(string(cpuinfo), "\t", " ") + " "
	hw := strings.Contains(flags, " vmx ") || strings.Contains(flags, " svm ")
	_, kvmErr := os.Stat("/dev/kvm")
	switch {
	case hw && kvmErr == nil:
		add("kvm", true, "/dev/kvm and hardware virtualisation (vmx/svm)")
	case kvmErr == nil:
		add("kvm", false, "/dev/kvm exists but the CPU has no vmx/svm flag: VMs would be slow (software virtualisation)")
	default:
		add("kvm", false, "no /dev/kvm")
	}

	r, err := sandbox.New(home)
	if err == nil {
		for _, rt := range []struct{ name, prog string }{{"python", "python3"}, {"node", "node"}} {
			path, err := exec.LookPath(rt.prog)
			if err != nil {
				add(rt.name, false, rt.prog+" not found: "+rt.name+" functions cannot run")
				continue
			}
			ver, _ := exec.CommandContext(ctx, path, "--version").CombinedOutput()
			add(rt.name, true, strings.TrimSpace(string(ver))+" ("+path+")")
		}
		sb := r.Sandbox
		var parts []string
		for _, k := range []string{"memory", "cpus", "processes", "timeout", "open files"} {
			parts = append(parts, k+": "+sb.Enforces()[k])
		}
		add("sandbox", sb.Kind != sandbox.KindRlimit, sb.Kind+" ("+sb.Why+"); "+strings.Join(parts, "; "))
		if err := r.ProbeJail(); err != nil {
			add("jail", false, "functions run unjailed: "+err.Error())
		} else {
			add("jail", true, sb.JailWhy+"; an unprivileged uid per instance (200000-265535), no capabilities, "+
				"no_new_privs, a seccomp deny-list; network: loopback only; /tmp: a tmpfs of its own")
		}
	}

	if b, err := build.New(home); err != nil {
		add("environments", false, err.Error())
	} else if n, size, err := b.Usage(); err != nil {
		add("environments", false, err.Error())
	} else {
		add("environments", true, fmt.Sprintf("%d dependency environments, %.1f MiB, in %s (those no version uses go with faas rm)",
			n, float64(size)/(1<<20), faashome.Envs(home)))
	}

	if url := faashome.DatabaseURL(); url != "" {
		if st, err := postgres.OpenNoMigrate(ctx, url); err != nil {
			add("database", false, err.Error())
			out[len(out)-1].Fatal = true
		} else {
			v, _ := st.SchemaVersion(ctx)
			add("database", true, fmt.Sprintf("PostgreSQL %s (%s), schema version %d of %d", st.Where(), faashome.DatabaseEnv, v, postgres.Latest()))
			st.Close()
		}
	} else if _, err := os.Stat(faashome.DB(home)); err != nil {
		add("database", true, "none yet at "+home+" (created by the first command that needs it)")
	} else if st, err := sqlite.Open(ctx, home); err != nil {
		add("database", false, err.Error())
		out[len(out)-1].Fatal = true
	} else {
		add("database", true, st.Path()+", schema version "+strconv.Itoa(sqlite.SchemaVersion()))
		st.Close()
	}
	return out
}
