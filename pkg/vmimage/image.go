// Package vmimage builds and keeps the images micro-VMs boot: a Debian
// kernel (the ELF vmlinux, booted directly through its PVH entry), the
// modules the guest loads before it mounts its root (a cpio archive), and
// a read-only ext4 root file system (Debian minbase with python3, nodejs
// and ca-certificates) that every instance shares under a copy-on-write
// layer of its own. Images are built from Debian's archive with mmdebstrap,
// kept under a directory named by the recipe's sha256, and appear whole
// or not at all (built beside it, renamed into place).
package vmimage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/fault"
)

// The files of an image.
const (
	KernelFile   = "vmlinux"
	ModulesFile  = "modules.cpio"
	RootfsFile   = "rootfs.ext4"
	ManifestFile = "manifest.json"
)

// DirEnv moves the images out of FAAS_HOME (one directory several homes,
// or a CI run's tests, share).
const DirEnv = "FAAS_IMAGE_DIR"

// MirrorEnv names the Debian mirror the build uses (mmdebstrap's default
// otherwise, with the release's updates and security suites).
const MirrorEnv = "FAAS_IMAGE_MIRROR"

// recipeVersion changes when what a build makes changes.
const recipeVersion = 1

// Recipe is what an image is built from: its key is the sha256 of it.
type Recipe struct {
	Version  int      `json:"version"`
	Suite    string   `json:"suite"`
	Kernel   string   `json:"kernel_package"`
	Packages []string `json:"packages"`
	Modules  []string `json:"modules"`
	Mirror   string   `json:"mirror,omitempty"`
	RootSize string   `json:"root_size"`
}

// DefaultRecipe is the image faas builds: Debian 12 and its kernel.
func DefaultRecipe() Recipe {
	return Recipe{Version: recipeVersion, Suite: "bookworm", Kernel: "linux-image-amd64",
		Packages: []string{"python3", "nodejs", "ca-certificates"}, Modules: GuestModules,
		Mirror: strings.TrimSpace(os.Getenv(MirrorEnv)), RootSize: "2G"}
}

// Key is the recipe's sha256 (16 hex digits of it), the image's directory.
func (r Recipe) Key() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Image is one built image, as its manifest records it.
type Image struct {
	Key           string    `json:"key"`
	Recipe        Recipe    `json:"recipe"`
	KernelVersion string    `json:"kernel_version"`
	Created       time.Time `json:"created"`
	// Size is what its files take on disk (the root file system is
	// sparse).
	Size     int64  `json:"size_bytes"`
	BuildSec string `json:"build_seconds"`
	Dir      string `json:"path"`
}

// Kernel, Modules and Rootfs are the image's files.
func (im Image) Kernel() string  { return filepath.Join(im.Dir, KernelFile) }
func (im Image) Modules() string { return filepath.Join(im.Dir, ModulesFile) }
func (im Image) Rootfs() string  { return filepath.Join(im.Dir, RootfsFile) }

// Dir is where images live: FAAS_IMAGE_DIR, else FAAS_HOME/images.
func Dir(home string) string {
	if d := os.Getenv(DirEnv); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			return abs
		}
		return d
	}
	return filepath.Join(home, "images")
}

var keyRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Open reads the image of key in dir.
func Open(dir, key string) (Image, error) {
	if !keyRE.MatchString(key) {
		return Image{}, fault.Usagef("%q is not an image key (16 hex digits, as faas image ls shows)", key)
	}
	var im Image
	b, err := os.ReadFile(filepath.Join(dir, key, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Image{}, fault.NotFoundf("no image %s in %s", key, dir)
	}
	if err != nil {
		return Image{}, fault.Platformf("image %s: %w", key, err)
	}
	if err := json.Unmarshal(b, &im); err != nil {
		return Image{}, fault.Platformf("image %s: %w", key, err)
	}
	im.Dir = filepath.Join(dir, key)
	for _, f := range []string{im.Kernel(), im.Modules(), im.Rootfs()} {
		if _, err := os.Stat(f); err != nil {
			return Image{}, fault.Platformf("image %s is incomplete: %w; remove it (faas image rm %s) and build it again", key, err, key)
		}
	}
	return im, nil
}

// Current is the image of the default recipe in dir, when it is built.
func Current(dir string) (Image, error) { return Open(dir, DefaultRecipe().Key()) }

// List lists the images in dir, newest first.
func List(dir string) ([]Image, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fault.Platformf("images: %w", err)
	}
	var out []Image
	for _, e := range ents {
		if !e.IsDir() || !keyRE.MatchString(e.Name()) {
			continue
		}
		if im, err := Open(dir, e.Name()); err == nil {
			out = append(out, im)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Remove deletes an image. VMs running from it keep their open files.
func Remove(dir, key string) error {
	if _, err := Open(dir, key); err != nil && fault.KindOf(err) != fault.Platform {
		return err
	}
	// Renamed first, so the image is gone at once even if removing its
	// files is cut short.
	tmp := filepath.Join(dir, ".rm-"+key)
	_ = os.RemoveAll(tmp)
	if err := os.Rename(filepath.Join(dir, key), tmp); err != nil {
		return fault.Platformf("remove image %s: %w", key, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fault.Platformf("remove image %s: %w", key, err)
	}
	return nil
}

// diskUsage is what the files under dir take on disk.
func diskUsage(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += allocated(fi)
			}
		}
		return nil
	})
	return n
}
