package vmimage

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// GuestModules are the modules the guest loads before it mounts its root
// (Debian builds them as modules; microvm's devices appear once
// virtio_mmio is in): the disk, ext4, the 9p shares of code and
// dependencies, the network of the agent's port. Their dependencies come
// from each module's own .modinfo. crc32c_generic is what ext4 asks the
// crypto API for, not a symbol it links, so it is named.
var GuestModules = []string{"virtio_mmio", "virtio_blk", "crc32c_generic", "ext4", "9pnet_virtio", "9p", "virtio_net", "virtio_console"}

// vmlinux writes the uncompressed ELF kernel inside a bzImage to dst: an
// ELF vmlinux has the PVH entry note, so QEMU boots it directly, without
// the decompressor (0.6 s less under TCG).
func vmlinux(ctx context.Context, bzImage, dst string) error {
	b, err := os.ReadFile(bzImage)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	if i := bytes.Index(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}); i >= 0 {
		xz, err := exec.LookPath("xz")
		if err != nil {
			return fmt.Errorf("the kernel is xz-compressed and there is no xz (apt-get install xz-utils)")
		}
		cmd := exec.CommandContext(ctx, xz, "-dc", "--single-stream")
		cmd.Stdin, cmd.Stdout = bytes.NewReader(b[i:]), out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		// The bzImage has bytes after the stream: xz stops at its end.
		if err := cmd.Run(); err != nil && !elfFile(dst) {
			return fmt.Errorf("xz: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
	} else if i := bytes.Index(b, []byte{0x1f, 0x8b, 0x08}); i >= 0 {
		zr, err := gzip.NewReader(bytes.NewReader(b[i:]))
		if err != nil {
			return err
		}
		zr.Multistream(false)
		if _, err := io.Copy(out, zr); err != nil {
			return err
		}
	} else {
		return fmt.Errorf("%s: no xz or gzip kernel inside", bzImage)
	}
	if err := out.Close(); err != nil {
		return err
	}
	if !elfFile(dst) {
		return fmt.Errorf("%s: what it holds is not an ELF kernel", bzImage)
	}
	return nil
}

func elfFile(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// moduleName is how the kernel names a module file (dashes are
// underscores).
func moduleName(path string) string {
	return strings.ReplaceAll(strings.TrimSuffix(filepath.Base(path), ".ko"), "-", "_")
}

// moduleDeps reads a module's "depends=" from its .modinfo section.
func moduleDeps(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil {
		return nil, nil
	}
	data, err := s.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok && len(v) > 0 {
			var out []string
			for _, d := range strings.Split(string(v), ",") {
				out = append(out, strings.ReplaceAll(d, "-", "_"))
			}
			return out, nil
		}
	}
	return nil, nil
}

// moduleOrder finds the wanted modules and their dependencies under a
// kernel's module tree, in an order that loads each after what it needs.
func moduleOrder(tree string, want []string) ([]string, error) {
	paths := map[string]string{}
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ko") {
			paths[moduleName(p)] = p
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("module %s depends on itself", name)
		case 2:
			return nil
		}
		p, ok := paths[name]
		if !ok {
			return fmt.Errorf("module %s is not in %s", name, tree)
		}
		state[name] = 1
		deps, err := moduleDeps(p)
		if err != nil {
			return fmt.Errorf("module %s: %w", name, err)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, p)
		return nil
	}
	for _, w := range want {
		if err := visit(w); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// writeModules writes the modules as a cpio archive: /faas/modules/NN-name.ko
// and /faas/modules/order, the names in load order.
func writeModules(paths []string, dst string) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	c := NewCPIO(f)
	c.Dir("faas", 0o755)
	c.Dir("faas/modules", 0o755)
	var order strings.Builder
	for i, p := range paths {
		name := fmt.Sprintf("%02d-%s.ko", i, moduleName(p))
		m, err := os.Open(p)
		if err != nil {
			return err
		}
		fi, err := m.Stat()
		if err != nil {
			m.Close()
			return err
		}
		c.File("faas/modules/"+name, 0o644, fi.Size(), m)
		m.Close()
		order.WriteString(name + "\n")
	}
	c.File("faas/modules/order", 0o644, int64(order.Len()), strings.NewReader(order.String()))
	if err := c.Close(); err != nil {
		return err
	}
	return f.Close()
}
