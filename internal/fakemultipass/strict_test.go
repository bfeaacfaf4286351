package fakemultipass

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The snap-confined client reads only what the home interface allows:
// not a home's top-level hidden directories, not the host's /tmp.
func TestSnapConfinement(t *testing.T) {
	f := newFake(t)
	const ci = "#cloud-config\nwrite_files:\n  - path: /home/ubuntu/ci.txt\n    content: from cloud-init\n"
	hidden := filepath.Join(f.home, ".local/share/faas/run/multipass/vm.yaml")
	if err := os.MkdirAll(filepath.Dir(hidden), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hidden, []byte(ci), 0o600); err != nil {
		t.Fatal(err)
	}
	f.fails(1, "Could not load cloud-init configuration: bad file: "+hidden+"\nPlease ensure that Multipass can read it.\n",
		"launch", "--name", "vm", "--cloud-init", hidden)
	outside := filepath.Join(t.TempDir(), "vm.yaml")
	if err := os.WriteFile(outside, []byte(ci), 0o644); err != nil {
		t.Fatal(err)
	}
	f.fails(1, "Could not load cloud-init configuration: bad file: "+outside+"\nPlease ensure that Multipass can read it.\n",
		"launch", "--name", "vm", "--cloud-init", outside)
	// Only a home's top-level hidden entries are denied; ~/snap/multipass is
	// the snap's own.
	for _, ok := range []string{"proj/.faas/vm.yaml", "snap/multipass/common/vm.yaml"} {
		p := filepath.Join(f.home, ok)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(ci), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := f.snapView(p); got != snapVisible {
			t.Errorf("%s: view %d, want visible", ok, got)
		}
	}
	if got := f.snapView(filepath.Join(f.home, "snap/other/x")); got != snapDenied {
		t.Errorf("another snap's data: view %d, want denied", got)
	}
	// On stdin it always works.
	if r := f.runIn(ci, "launch", "--name", "vm", "--cloud-init", "-"); r.code != 0 {
		t.Fatalf("cloud-init on stdin: %+v", r)
	}
	if r := f.ok("exec", "vm", "--", "cat", "ci.txt"); r.stdout != "from cloud-init" {
		t.Errorf("cat: %q", r.stdout)
	}

	// transfer: a hidden file is denied, the host's /tmp is not there.
	if r := f.run("transfer", hidden, "vm:"); r.code != 2 || !strings.HasSuffix(r.stderr, "[error] [sftp] cannot open local file \""+hidden+"\": Permission denied\n") {
		t.Errorf("transfer of a hidden file: %+v", r)
	}
	tmp, err := os.CreateTemp("/tmp", "fakemultipass-")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if r := f.run("transfer", tmp.Name(), "vm:"); r.code != 2 || !strings.HasSuffix(r.stderr, "[error] [sftp] cannot access \""+tmp.Name()+"\": No such file or directory\n") {
		t.Errorf("transfer from /tmp: %+v", r)
	}
	// From stdin: to a file, or to stream_output.dat in a directory, mode
	// 0644; a target outside the default user's reach is refused.
	f.runIn("agent bytes", "transfer", "-", "vm:agent")
	f.runIn("more bytes", "transfer", "-", "vm:")
	root := filepath.Join(f.dir, "instances", "vm", "root", "home", "ubuntu")
	for name, want := range map[string]string{"agent": "agent bytes", "stream_output.dat": "more bytes"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		fi, _ := os.Stat(filepath.Join(root, name))
		if err != nil || string(b) != want || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %q %v %v", name, b, err, fi)
		}
	}
	if r := f.runIn("x", "transfer", "-", "vm:/usr/local/bin/faas"); r.code != 2 || r.stderr != "cannot open remote file \"/usr/local/bin/faas\": Permission denied\n" {
		t.Errorf("transfer - outside the home: %+v", r)
	}
	// Pulling into a hidden directory is denied too.
	if r := f.run("transfer", "vm:agent", filepath.Join(f.home, ".cache-x")); r.code != 2 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("pull into a hidden path: %+v", r)
	}
}

func (f *fake) snapView(p string) snapView {
	c := &cli{getenv: func(k string) string {
		for _, kv := range f.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}}
	return c.snapAccess(p)
}

// A disk below the image's own size is refused by the daemon, after the
// image is known.
func TestDiskFloor(t *testing.T) {
	f := newFake(t)
	f.fails(2, "launch failed: Requested disk (1073741824 bytes) below minimum for this image (3758096384 bytes)\n", "launch", "--name", "vm", "--disk", "1G")
	f.launch("vm", "--disk", "3.5G")
	f.launch("jammy", "22.04", "--disk", "3G")
	img := writeQcow2(t, filepath.Join(f.homeDir(), "big.img"), 8<<30)
	f.fails(2, "launch failed: Requested disk (5368709120 bytes) below minimum for this image (8589934592 bytes)\n", "launch", "file://"+img, "--name", "custom", "--disk", "5G")
	// Without --disk: the default or the image's size, whichever is larger.
	f.launch("custom", "file://"+img)
	if got := f.ok("get", "local.custom.disk").stdout; got != "8.0GiB\n" {
		t.Errorf("disk of a launch from an 8G image: %q", got)
	}
}

func writeQcow2(t *testing.T, p string, size uint64) string {
	t.Helper()
	hdr := make([]byte, 104)
	copy(hdr, "QFI\xfb")
	binary.BigEndian.PutUint32(hdr[4:], 3)
	binary.BigEndian.PutUint64(hdr[24:], size)
	if err := os.WriteFile(p, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A guest runs the programs of its image and of the packages cloud-init
// installed, not the host's: nodejs needs network at first boot.
func TestGuestPrograms(t *testing.T) {
	f := newFake(t)
	f.launch("plain")
	f.fails(127, "bash: line 1: node: command not found\n", "exec", "plain", "--", "node", "--version")
	f.fails(127, "bash: line 1: /usr/bin/node: No such file or directory\n", "exec", "plain", "--", "/usr/bin/node", "--version")
	// (Shells run on the host: the guest's /usr/bin is seen at its host path.)
	if r := f.ok("exec", "plain", "--", "sh", "-c", "command -v python3; command -v node || echo none"); !strings.HasSuffix(r.stdout, "/root/usr/bin/python3\nnone\n") {
		t.Errorf("the guest's PATH: %q", r.stdout)
	}
	if r := f.ok("exec", "plain", "--", "cloud-init", "status", "--wait"); r.stdout != "status: done\n" {
		t.Errorf("cloud-init status: %q", r.stdout)
	}

	const ci = "#cloud-config\npackages: [nodejs]\n"
	offline := f.with(EnvOffline + "=1")
	if r := offline.runIn(ci, "launch", "--name", "off", "--cloud-init", "-"); r.code != 0 {
		t.Fatalf("an offline launch fails only later: %+v", r)
	}
	f.fails(127, "bash: line 1: node: command not found\n", "exec", "off", "--", "node", "--version")
	if r := f.run("exec", "off", "--", "cloud-init", "status", "--long"); r.code != 1 || !strings.HasPrefix(r.stdout, "status: error\n") || !strings.Contains(r.stdout, "E: Unable to locate package nodejs") {
		t.Errorf("cloud-init status after an offline first boot: %+v", r)
	}
	if r := f.ok("exec", "off", "--", "cat", "/var/log/cloud-init-output.log"); !strings.Contains(r.stdout, "Temporary failure resolving") {
		t.Errorf("cloud-init-output.log: %q", r.stdout)
	}
	f.fails(2, "launch failed: Unable to find an image matching \"nosuch\" in remote \"release\".\n", "launch", "nosuch")

	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed here: the online and prepared-image cases need it")
	}
	if r := f.runIn(ci, "launch", "--name", "on", "--cloud-init", "-"); r.code != 0 {
		t.Fatalf("online launch: %+v", r)
	}
	if r := f.ok("exec", "on", "--", "node", "-e", "console.log(1+1)"); r.stdout != "2\n" {
		t.Errorf("node online: %q", r.stdout)
	}
	// A prepared image (its manifest lists nodejs) has it offline.
	dir := f.homeDir()
	img := writeQcow2(t, filepath.Join(dir, "noble-faas.img"), 3584<<20)
	if err := os.WriteFile(filepath.Join(dir, "noble-faas.manifest"), []byte("nodejs\t18.19.1+dfsg-6ubuntu5\nlibc6:amd64\t2.39-0ubuntu8.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := offline.runIn(ci, "launch", "file://"+img, "--name", "prepared", "--cloud-init", "-"); r.code != 0 {
		t.Fatalf("launch of a prepared image: %+v", r)
	}
	if r := f.ok("exec", "prepared", "--", "node", "-e", "console.log(3)"); r.stdout != "3\n" {
		t.Errorf("node in a prepared image: %q", r.stdout)
	}
}

// A guest runs a program brought into it only if it is static and for
// its architecture.
func TestGuestBinaries(t *testing.T) {
	f := newFake(t)
	f.launch("vm")
	f.launch("focal", "20.04")
	static := buildStatic(t, f.homeDir())
	f.ok("transfer", static, "vm:prog")
	if r := f.ok("exec", "vm", "--", "./prog"); r.stdout != "static ok\n" {
		t.Errorf("a static program: %q", r.stdout)
	}
	// From stdin it is 0644: not executable until installed.
	data, _ := os.ReadFile(static)
	if r := f.runIn(string(data), "transfer", "-", "vm:prog2"); r.code != 0 {
		t.Fatalf("transfer -: %+v", r)
	}
	f.fails(126, "bash: line 1: ./prog2: Permission denied\n", "exec", "vm", "--", "./prog2")
	f.ok("exec", "vm", "--", "sudo", "install", "-m", "0755", "prog2", "/usr/local/bin/prog2")
	if r := f.ok("exec", "vm", "--", "prog2"); r.stdout != "static ok\n" {
		t.Errorf("an installed static program: %q", r.stdout)
	}

	other := filepath.Join(f.homeDir(), "other-arch")
	patchMachine(t, static, other)
	f.ok("transfer", other, "vm:other")
	f.fails(126, "bash: line 1: ./other: cannot execute binary file: Exec format error\n", "exec", "vm", "--", "./other")

	ls, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls here")
	}
	dyn := filepath.Join(f.homeDir(), "dyn")
	b, _ := os.ReadFile(ls)
	if err := os.WriteFile(dyn, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if e, err := elf.Open(dyn); err != nil || len(e.Progs) == 0 {
		t.Skip("ls is not an ELF program here")
	}
	f.ok("transfer", dyn, "vm:dyn")
	if r := f.run("exec", "vm", "--", "./dyn"); r.code != 126 || !strings.Contains(r.stderr, "runs only static programs brought into a guest (this one is dynamically linked") {
		t.Errorf("a dynamically linked program: %+v", r)
	}
	f.ok("transfer", dyn, "focal:dyn")
	e, _ := elf.Open(dyn)
	need := newestGLIBC(e)
	e.Close()
	if r := f.run("exec", "focal", "--", "./dyn"); versionLess("2.31", need) {
		want := "./dyn: /lib/" + multiarch(e.Machine) + "/libc.so.6: version `GLIBC_" + need + "' not found (required by ./dyn)\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("on 20.04: %+v, want %q", r, want)
		}
	}

	// A unit whose program a guest cannot run fails to start.
	unitFile := "[Service]\nExecStart=/home/ubuntu/dyn\n"
	f.runIn(unitFile, "transfer", "-", "vm:dyn.service")
	f.ok("exec", "vm", "--", "sudo", "install", "-m", "0644", "dyn.service", "/etc/systemd/system/dyn.service")
	if r := f.run("exec", "vm", "--", "sudo", "systemctl", "start", "dyn"); r.code != 1 || !strings.Contains(r.stderr, "Job for dyn.service failed") {
		t.Errorf("a unit of a dynamic program: %+v", r)
	}
	if r := f.ok("exec", "vm", "--", "cat", "/var/log/dyn.log"); !strings.Contains(r.stdout, "dynamically linked") {
		t.Errorf("the unit's log: %q", r.stdout)
	}
}

// buildStatic builds a small static program (no cgo).
func buildStatic(t *testing.T, dir string) string {
	t.Helper()
	src := t.TempDir()
	main := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"static ok\\n\") }\n"
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module staticprog\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "static")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// patchMachine copies an ELF program with its e_machine set to another
// architecture's.
func patchMachine(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m := elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		m = elf.EM_X86_64
	}
	binary.LittleEndian.PutUint16(b[18:], uint16(m))
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
