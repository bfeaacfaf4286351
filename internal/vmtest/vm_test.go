// Package vmtest boots real micro-VMs (the qemu provider; TCG where there
// is no hardware virtualisation) in testscripts: its own test binary, so
// its minutes do not count against cmd/faas' scripts.
package vmtest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/faasdev/faas/internal/agentbuild"
	"github.com/faasdev/faas/internal/scripttest"
	"github.com/faasdev/faas/pkg/vmimage"
)

// requireVMEnv makes TestVMScripts fail rather than skip when QEMU or the
// image cannot be had (CI sets it: there they must run).
const requireVMEnv = "FAAS_TEST_REQUIRE_VM"

// testImageDirEnv is where the tests find (or build) the image. It is not
// FAAS_IMAGE_DIR itself: with an image there, every test deploying with
// --provider auto would boot VMs.
const testImageDirEnv = "FAAS_TEST_IMAGE_DIR"

// TestVMScripts boots real micro-VMs (the qemu provider, TCG where there
// is no hardware virtualisation) in the scripts of testdata/script. The image
// is FAAS_TEST_IMAGE_DIR's (CI builds it once per run), else one in the temp
// directory, built on first use (about a minute, as root).
func TestVMScripts(t *testing.T) {
	skip := t.Skipf
	if os.Getenv(requireVMEnv) != "" {
		skip = t.Fatalf
	}
	for _, bin := range []string{"qemu-system-x86_64", "qemu-img"} {
		if _, err := exec.LookPath(bin); err != nil {
			skip("%s is not installed (apt-get install qemu-system-x86 qemu-utils): no micro-VM tests", bin)
		}
	}
	dir := os.Getenv(testImageDirEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "faas-test-images")
	}
	if _, err := vmimage.Current(dir); err != nil {
		if m := vmimage.Tools(); len(m) > 0 {
			skip("no micro-VM image in %s and no %s to build one: no micro-VM tests", dir, strings.Join(m, ", "))
		}
		if os.Geteuid() != 0 {
			skip("no micro-VM image in %s, and building one needs root: no micro-VM tests", dir)
		}
		t.Logf("building the micro-VM image in %s", dir)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		if _, _, err := vmimage.Build(ctx, dir, vmimage.DefaultRecipe(), nil); err != nil {
			t.Fatalf("build the micro-VM image: %v", err)
		}
	}
	agent, err := agentbuild.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmds := scripttest.Cmds()
	cmds["jsonvar"] = cmdJSONVar
	cmds["breaksnapshot"] = cmdBreakSnapshot
	p := testscript.Params{Dir: "testdata/script", Cmds: cmds, RequireExplicitExec: true}
	p.Setup = func(env *testscript.Env) error {
		if err := scripttest.Setup(env); err != nil {
			return err
		}
		env.Setenv(vmimage.DirEnv, dir)
		env.Setenv("FAAS_AGENT_BINARY", agent)
		// A loaded CI host boots a TCG guest in tens of seconds.
		env.Setenv("FAAS_QEMU_BOOT_TIMEOUT", "240s")
		home := env.Getenv("FAAS_HOME")
		env.Defer(func() { killVMs(home) })
		return nil
	}
	testscript.Run(t, p)
}

// killVMs ends the QEMU processes of a FAAS_HOME's instances.
func killVMs(home string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.HasPrefix(string(b), "qemu-system-x86_64\x00") && strings.Contains(string(b), home+"/run/qemu/") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// cmdJSONVar sets VAR to the string KEY of the JSON object in FILE.
func cmdJSONVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonvar VAR FILE KEY")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[1])), &m); err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	v, ok := m[args[2]].(string)
	if !ok || v == "" {
		ts.Fatalf("%s has no string %s", args[1], args[2])
	}
	ts.Setenv(args[0], v)
}

// cmdBreakSnapshot cuts the saved state of the snapshot an instance
// was restored from (its instance.json says which) to its first MiB, as a
// write cut short would.
func cmdBreakSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: breaksnapshot INSTANCE_JSON")
	}
	var st struct {
		Snapshot string `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &st); err != nil || st.Snapshot == "" {
		ts.Fatalf("%s names no snapshot (%v)", args[0], err)
	}
	states, _ := filepath.Glob(filepath.Join(ts.Getenv(vmimage.DirEnv), "*", "snapshots", st.Snapshot, "state"))
	if len(states) != 1 {
		ts.Fatalf("snapshot %s: %d states in %s", st.Snapshot, len(states), ts.Getenv(vmimage.DirEnv))
	}
	ts.Check(os.Truncate(states[0], 1<<20))
}

func TestMain(m *testing.M) {
	scripttest.Main(m, nil)
}
