package vmimage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
)

// Tools says which programs a build needs and which of them are missing.
func Tools() (missing []string) {
	for _, t := range []string{"mmdebstrap", "mkfs.ext4", "xz"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// toolsHint says how to get what a build needs.
const toolsHint = "install them: apt-get install mmdebstrap e2fsprogs xz-utils"

// Build makes the image of r in dir unless it is there, and returns it.
// progress, when set, gets what the build tools say, line by line. Two
// builders of one recipe wait for each other; a failed or interrupted
// build (ctx ended) leaves nothing behind: it happens in a hidden
// directory beside the image's, renamed into place when complete.
func Build(ctx context.Context, dir string, r Recipe, progress io.Writer) (Image, bool, error) {
	if im, err := Open(dir, r.Key()); err == nil {
		return im, false, nil
	}
	if m := Tools(); len(m) > 0 {
		return Image{}, false, fault.WithHint(fault.Platformf("building a VM image needs %s", strings.Join(m, ", ")), toolsHint)
	}
	if os.Geteuid() != 0 {
		return Image{}, false, fault.WithHint(fault.Platformf("building a VM image needs root (mmdebstrap's root mode owns the files as the guest expects)"),
			"run it once as root with the same FAAS_HOME or FAAS_IMAGE_DIR: sudo -E faas image build")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Image{}, false, fault.Platformf("images: %w", err)
	}
	key := r.Key()
	lock, err := faashome.LockWait(ctx, filepath.Join(dir, "."+key+".lock"))
	if err != nil {
		return Image{}, false, fault.Platformf("wait for another build of image %s: %w", key, err)
	}
	defer lock.Close()
	if im, err := Open(dir, key); err == nil {
		return im, false, nil // another process built it meanwhile
	}
	// Leftovers of builds that died (kill -9) while holding this lock.
	if old, _ := filepath.Glob(filepath.Join(dir, ".build-"+key+"-*")); len(old) > 0 {
		for _, o := range old {
			removeBuild(o)
		}
	}
	tmp, err := os.MkdirTemp(dir, ".build-"+key+"-")
	if err != nil {
		return Image{}, false, fault.Platformf("images: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			removeBuild(tmp)
		}
	}()
	start := time.Now()
	b := &builder{ctx: ctx, r: r, tmp: tmp, progress: progress}
	// The two fetches wait mostly on the network: side by side.
	var kver string
	kerr := make(chan error, 1)
	go func() {
		var err error
		kver, err = b.kernel()
		kerr <- err
	}()
	rerr := b.rootfs()
	if err := <-kerr; err != nil {
		return Image{}, false, err
	}
	if rerr != nil {
		return Image{}, false, rerr
	}
	im := Image{Key: key, Recipe: r, KernelVersion: kver, Created: time.Now().UTC(), Size: diskUsage(tmp),
		BuildSec: fmt.Sprintf("%.1f", time.Since(start).Seconds())}
	mb, _ := json.MarshalIndent(im, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, ManifestFile), append(mb, '\n'), 0o644); err != nil {
		return Image{}, false, fault.Platformf("image manifest: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Image{}, false, fault.Platformf("images: %w", err)
	}
	if ctx.Err() != nil {
		return Image{}, false, ctx.Err()
	}
	if err := os.Rename(tmp, filepath.Join(dir, key)); err != nil {
		return Image{}, false, fault.Platformf("images: %w", err)
	}
	ok = true
	im.Dir = filepath.Join(dir, key)
	return im, true, nil
}

type builder struct {
	ctx      context.Context
	r        Recipe
	tmp      string
	progress io.Writer
}

// run runs a build tool (argv, no shell), its output to progress and the
// last lines kept for the error. An interrupted build sends it SIGTERM
// (mmdebstrap unmounts what it mounted in its chroot on it), then kills
// it.
func (b *builder) run(name string, args ...string) error {
	if b.progress != nil {
		fmt.Fprintf(b.progress, "faas image build: %s %s\n", name, strings.Join(args, " "))
	}
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var tail []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if b.progress != nil {
				fmt.Fprintln(b.progress, "  "+line)
			}
			tail = append(tail, line)
			if len(tail) > 8 {
				tail = tail[1:]
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if b.ctx.Err() != nil {
		return fault.Platformf("image build interrupted: %w", b.ctx.Err())
	}
	if err != nil {
		return fault.WithHint(fault.Platformf("%s failed (%v): %s", name, err, strings.Join(tail, " | ")),
			"it needs Debian's archive (network, or "+MirrorEnv+"=a mirror)")
	}
	return nil
}

func (b *builder) mirror() []string {
	if b.r.Mirror == "" {
		return nil
	}
	return []string{b.r.Mirror}
}

// kernel fetches Debian's kernel package (extracted only, never
// installed), keeps its vmlinux and the guest's modules, and returns the
// kernel's version.
func (b *builder) kernel() (string, error) {
	tree := filepath.Join(b.tmp, "kernel")
	args := append([]string{"--mode=root", "--variant=extract", "--include=" + b.r.Kernel, b.r.Suite, tree}, b.mirror()...)
	if err := b.run("mmdebstrap", args...); err != nil {
		return "", err
	}
	defer removeBuild(tree)
	bz, _ := filepath.Glob(filepath.Join(tree, "boot", "vmlinuz-*"))
	if len(bz) != 1 {
		return "", fault.Platformf("%s has %d kernels in /boot, want one", b.r.Kernel, len(bz))
	}
	kver := strings.TrimPrefix(filepath.Base(bz[0]), "vmlinuz-")
	if err := vmlinux(b.ctx, bz[0], filepath.Join(b.tmp, KernelFile)); err != nil {
		return "", fault.Platformf("kernel %s: %w", kver, err)
	}
	modTree := filepath.Join(tree, "lib", "modules", kver)
	if _, err := os.Stat(modTree); err != nil {
		modTree = filepath.Join(tree, "usr", "lib", "modules", kver)
	}
	order, err := moduleOrder(modTree, b.r.Modules)
	if err != nil {
		return "", fault.Platformf("kernel %s: %w", kver, err)
	}
	if err := writeModules(order, filepath.Join(b.tmp, ModulesFile)); err != nil {
		return "", fault.Platformf("kernel %s modules: %w", kver, err)
	}
	return kver, nil
}

// rootfs builds the root file system (minbase and the runtimes, without
// documentation) and makes it an ext4 image.
func (b *builder) rootfs() error {
	tree := filepath.Join(b.tmp, "rootfs")
	args := []string{"--mode=root", "--variant=minbase", "--include=" + strings.Join(b.r.Packages, ","),
		"--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-exclude=/usr/share/info/*",
		b.r.Suite, tree}
	if err := b.run("mmdebstrap", append(args, b.mirror()...)...); err != nil {
		return err
	}
	defer removeBuild(tree)
	for _, d := range []string{"var/lib/faas/code", "var/lib/faas/envs", "var/cache/apt/archives"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return fault.Platformf("rootfs: %w", err)
		}
	}
	for _, g := range []string{"var/cache/apt/*.bin", "var/lib/apt/lists/*_Packages", "var/log/*.log"} {
		m, _ := filepath.Glob(filepath.Join(tree, g))
		for _, p := range m {
			_ = os.Remove(p)
		}
	}
	return b.run("mkfs.ext4", "-q", "-F", "-L", "faasroot", "-d", tree, filepath.Join(b.tmp, RootfsFile), b.r.RootSize)
}

// removeBuild removes a build directory, first unmounting anything an
// interrupted mmdebstrap left mounted under it (/proc, /dev of its
// chroot): removing through those would reach the host's.
func removeBuild(dir string) {
	for _, m := range mountsUnder(dir) {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	if len(mountsUnder(dir)) > 0 {
		return // never remove through a mount
	}
	_ = os.RemoveAll(dir)
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	var out []string
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		f := strings.Fields(string(line))
		if len(f) > 4 {
			mp := unescapeMount(f[4])
			if mp == real || strings.HasPrefix(mp, real+"/") {
				out = append(out, mp)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
