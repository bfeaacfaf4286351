// Command vm measures, in one run on one machine, what a QEMU micro-VM
// instance costs against the process floor:
//
//	(a) `python3 -c pass`: a fresh interpreter, the floor of any cold start,
//	(b) boot-to-ready: QEMU's start until the agent in the guest answers
//	    (the instance's boot_ms), snapshots off, and the whole cold
//	    `faas invoke` around it,
//	(c) restore-to-ready: the same from the snapshot of the function's
//	    runtime and size (made once before, its boot and save reported),
//	    and the cold `faas invoke` around it,
//	(d) the first invocation in a ready VM, booted and restored: the cold
//	    invoke less the boot or restore,
//	(e) a warm `faas invoke` through a VM against one through the local
//	    provider.
//
// Medians of -n runs (boots and restores, taken in turn) and -warm runs
// (warm invokes). It needs the image (faas image build) in FAAS_IMAGE_DIR
// or FAAS_TEST_IMAGE_DIR. Run it from the repository root:
//
//	FAAS_IMAGE_DIR=/tmp/faas-images go run ./bench/vm [-n 5] [-warm 20]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
	"github.com/faasdev/faas/internal/agentbuild"
	"github.com/faasdev/faas/pkg/vmimage"
)

const handler = `def handler(event, context):
    return {"message": "Hello, " + str(event.get("name", "world")) + "!"}
`

func main() {
	n := flag.Int("n", 5, "boots")
	warm := flag.Int("warm", 20, "warm invocations of each provider")
	flag.Parse()
	if err := run(*n, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, warm int) error {
	imgDir := os.Getenv(vmimage.DirEnv)
	if imgDir == "" {
		imgDir = os.Getenv("FAAS_TEST_IMAGE_DIR")
	}
	if imgDir == "" {
		return fmt.Errorf("set FAAS_IMAGE_DIR to where `faas image build` put the image")
	}
	im, err := vmimage.Current(imgDir)
	if err != nil {
		return fmt.Errorf("%v (build it: FAAS_IMAGE_DIR=%s faas image build)", err, imgDir)
	}
	dir, faas, err := benchutil.Setup("faas-bench-vm-", map[string]string{"hello.py": handler})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	agent, err := agentbuild.Build(dir)
	if err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "FAAS_HOME="+home, "FAAS_AGENT_BINARY="+agent, vmimage.DirEnv+"="+imgDir, "FAAS_QEMU_BOOT_TIMEOUT=300s")
	cli := func(extra []string, args ...string) (time.Duration, string, error) {
		cmd := exec.Command(faas, args...)
		cmd.Env = append(env, extra...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t := time.Now()
		err := cmd.Run()
		d := time.Since(t)
		if err != nil {
			return d, "", fmt.Errorf("faas %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return d, out.String(), nil
	}
	fmt.Printf("image %s (kernel %s); %d boots, %d warm invocations\n", im.Key, im.KernelVersion, n, warm)

	var floor []time.Duration
	for range n {
		t := time.Now()
		if err := exec.Command("python3", "-c", "pass").Run(); err != nil {
			return err
		}
		floor = append(floor, time.Since(t))
	}

	type instance struct {
		BootMS   int64  `json:"boot_ms"`
		Snapshot string `json:"snapshot"`
		Accel    struct {
			Name string `json:"name"`
		} `json:"accel"`
	}
	// start deploys a function and invokes it cold: its VM boots (snapshots
	// off) or restores; the instance's record says which, and how long.
	start := func(name string, snapshots bool) (instance, time.Duration, error) {
		var st instance
		if _, _, err := cli(nil, "deploy", filepath.Join(dir, "hello.py"), "--name", name, "--provider", "qemu"); err != nil {
			return st, 0, err
		}
		var extra []string
		if !snapshots {
			extra = []string{"FAAS_QEMU_SNAPSHOTS=off"}
		}
		d, out, err := cli(extra, "invoke", name, "-d", `{"name":"Ada"}`)
		if err != nil {
			return st, 0, err
		}
		if !strings.Contains(out, "Hello, Ada!") {
			return st, 0, fmt.Errorf("invoke %s printed %q", name, out)
		}
		b, err := os.ReadFile(filepath.Join(home, "run", "qemu", "qemu-"+name+"-1", "instance.json"))
		if err != nil {
			return st, 0, err
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return st, 0, err
		}
		if (st.Snapshot != "") != snapshots {
			return st, 0, fmt.Errorf("%s: restored from snapshot %q, want restored %v (see %s)", name, st.Snapshot, snapshots, filepath.Join(home, "logs", "qemu-"+name+"-1.log"))
		}
		return st, d, nil
	}

	// The snapshot, made once (a boot and a save) by a first restore, or
	// found made by an earlier run.
	began := time.Now()
	first, _, err := start("mk", true)
	if err != nil {
		return err
	}
	var snap struct {
		Created    time.Time `json:"created"`
		BootMS     int64     `json:"boot_ms"`
		SaveMS     int64     `json:"save_ms"`
		StateBytes int64     `json:"state_bytes"`
	}
	if b, err := os.ReadFile(filepath.Join(im.Dir, "snapshots", first.Snapshot, "snapshot.json")); err != nil {
		return err
	} else if err := json.Unmarshal(b, &snap); err != nil {
		return err
	}
	if _, _, err := cli(nil, "rm", "mk"); err != nil {
		return err
	}

	var boots, colds, firsts, restores, rcolds, rfirsts []time.Duration
	accel := ""
	for i := range n {
		for _, snapshots := range []bool{false, true} {
			name := fmt.Sprintf("vm%d", i)
			if snapshots {
				name = fmt.Sprintf("rs%d", i)
			}
			st, d, err := start(name, snapshots)
			if err != nil {
				return err
			}
			accel = st.Accel.Name
			boot := time.Duration(st.BootMS) * time.Millisecond
			if snapshots {
				restores, rcolds, rfirsts = append(restores, boot), append(rcolds, d), append(rfirsts, d-boot)
			} else {
				boots, colds, firsts = append(boots, boot), append(colds, d), append(firsts, d-boot)
			}
			if i < n-1 || snapshots {
				if _, _, err := cli(nil, "rm", name); err != nil {
					return err
				}
			}
		}
	}
	last := fmt.Sprintf("vm%d", n-1)

	if _, _, err := cli(nil, "deploy", filepath.Join(dir, "hello.py"), "--name", "loc", "--provider", "local"); err != nil {
		return err
	}
	if _, _, err := cli(nil, "invoke", "loc"); err != nil {
		return err
	}
	var vmWarm, locWarm []time.Duration
	for range warm {
		d, _, err := cli(nil, "invoke", last, "-d", `{"name":"Bo"}`)
		if err != nil {
			return err
		}
		vmWarm = append(vmWarm, d)
		d, _, err = cli(nil, "invoke", "loc", "-d", `{"name":"Bo"}`)
		if err != nil {
			return err
		}
		locWarm = append(locWarm, d)
	}
	_, _, _ = cli(nil, "rm", last)
	_, _, _ = cli(nil, "rm", "loc")

	m := func(d time.Duration) string { return benchutil.MS(d) + " ms" }
	fmt.Printf("acceleration: %s\n", accel)
	fmt.Printf("(a) python3 -c pass                          median %s\n", m(benchutil.Median(floor)))
	fmt.Printf("(b) boot-to-ready (QEMU start → agent)        median %s   %.1fx (a)\n", m(benchutil.Median(boots)), benchutil.Ratio(boots, floor))
	fmt.Printf("    cold faas invoke (boot included)          median %s\n", m(benchutil.Median(colds)))
	fmt.Printf("(c) restore-to-ready (QEMU start → agent)     median %s   %.1fx (a), %.2fx (b)\n", m(benchutil.Median(restores)), benchutil.Ratio(restores, floor), benchutil.Ratio(restores, boots))
	fmt.Printf("    cold faas invoke (restore included)       median %s   %.2fx the booted one\n", m(benchutil.Median(rcolds)), benchutil.Ratio(rcolds, colds))
	when := "in this run"
	if snap.Created.Before(began) {
		when = "by an earlier run, " + snap.Created.Format(time.RFC3339)
	}
	fmt.Printf("    the snapshot, made once (%s): boot %d ms, save %d ms, %d MiB\n", when, snap.BootMS, snap.SaveMS, snap.StateBytes>>20)
	fmt.Printf("(d) first invoke in a booted VM               median %s   %.1fx (a)\n", m(benchutil.Median(firsts)), benchutil.Ratio(firsts, floor))
	fmt.Printf("    first invoke in a restored VM             median %s   %.1fx (a), %.2fx the booted one\n", m(benchutil.Median(rfirsts)), benchutil.Ratio(rfirsts, floor), benchutil.Ratio(rfirsts, firsts))
	fmt.Printf("(e) warm faas invoke, qemu                    median %s\n", m(benchutil.Median(vmWarm)))
	fmt.Printf("    warm faas invoke, local                   median %s   qemu/local %.2fx\n", m(benchutil.Median(locWarm)), benchutil.Ratio(vmWarm, locWarm))
	return nil
}
