package multipass

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// defaultImage is the image VMs are launched from unless
// FAAS_MULTIPASS_IMAGE names another.
const defaultImage = "24.04"

// imageSizes are the virtual sizes of Ubuntu's cloud images (amd64, at
// the time of writing): multipassd refuses a --disk below an image's own
// size ("Requested disk (…) below minimum for this image (…)"), after it
// has downloaded it. faas checks at deploy; the daemon stays the judge.
var imageSizes = map[string]int64{
	"24.04": 3584 << 20, "noble": 3584 << 20, "lts": 3584 << 20,
	"22.04": 2252 << 20, "jammy": 2252 << 20,
	"20.04": 2252 << 20, "focal": 2252 << 20,
}

// imageAlias is `[remote:]alias`, as multipass names images.
var imageAlias = regexp.MustCompile(`^(?:[a-z][a-z0-9-]*:)?[A-Za-z0-9][A-Za-z0-9._-]*$`)

// imageFromEnv reads FAAS_MULTIPASS_IMAGE: an alias (24.04, daily:24.10),
// an http(s) URL, or file:///ABSOLUTE/PATH of a prepared image (offline
// use: an image that has the runtimes, docs/multipass.md). A file must be
// where the snap-confined multipassd can read it.
func imageFromEnv() (string, error) {
	v := strings.TrimSpace(os.Getenv("FAAS_MULTIPASS_IMAGE"))
	switch {
	case v == "":
		return defaultImage, nil
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		if strings.ContainsAny(v, " \t\n") {
			return "", fault.Usagef("FAAS_MULTIPASS_IMAGE %q is not a URL", v)
		}
		return v, nil
	case strings.HasPrefix(v, "file://"):
		p := strings.TrimPrefix(v, "file://")
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return "", fault.Usagef("FAAS_MULTIPASS_IMAGE %q: the file needs an absolute, clean path (file:///home/me/images/noble-faas.img)", v)
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return "", fault.Usagef("FAAS_MULTIPASS_IMAGE %q: no such image file", v)
		}
		if why := snapCannotRead(p); why != "" {
			return "", fault.WithHint(fault.Usagef("FAAS_MULTIPASS_IMAGE %q: %s", v, why), "keep images in a non-hidden directory of your home (~/images)")
		}
		return v, nil
	case imageAlias.MatchString(v):
		return v, nil
	}
	return "", fault.Usagef("FAAS_MULTIPASS_IMAGE %q is not an image multipass knows: use an alias (24.04), a URL or file:///path", v)
}

// snapCannotRead says why the snap-confined Multipass (Linux) cannot read
// a host file: it sees no hidden top-level entry of a home, and /tmp is
// its own.
func snapCannotRead(p string) string {
	if runtime.GOOS != "linux" {
		return ""
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if home, err := os.UserHomeDir(); err == nil {
		if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
			if strings.HasPrefix(rel, ".") {
				return "the Multipass snap cannot read hidden directories of your home"
			}
			return ""
		}
	}
	for _, tmp := range []string{"/tmp", "/var/tmp"} {
		if p == tmp || strings.HasPrefix(p, tmp+"/") {
			return "the Multipass snap cannot read " + tmp
		}
	}
	return ""
}

// minDisk is the image's own size, below which multipassd refuses a disk:
// known for Ubuntu's releases, read from the file for a prepared image (a
// qcow2 header's size, else the raw file's), 0 when unknown.
func minDisk(image string) int64 {
	if p, ok := strings.CutPrefix(image, "file://"); ok {
		f, err := os.Open(p)
		if err != nil {
			return 0
		}
		defer f.Close()
		var hdr [32]byte
		if _, err := io.ReadFull(f, hdr[:]); err == nil && string(hdr[:4]) == "QFI\xfb" {
			return int64(binary.BigEndian.Uint64(hdr[24:]))
		}
		if fi, err := f.Stat(); err == nil {
			return fi.Size()
		}
		return 0
	}
	_, alias, found := strings.Cut(image, ":")
	if !found {
		alias = image
	}
	return imageSizes[alias]
}

// CheckConfig implements provider.ConfigChecker: at deploy, a disk below
// the image's own size, and a missing static agent, are said before any
// VM is launched.
func (p *Provider) CheckConfig(cfg function.Config) error {
	if floor := minDisk(p.Image); floor > 0 && cfg.DiskMB<<20 < floor {
		gib := (floor + 1<<30 - 1) >> 30
		return fault.WithHint(fault.Usagef("--disk %s is below the size of the Multipass image %s (%.1fG): multipassd would refuse it",
			function.FormatSize(cfg.DiskMB), p.Image, float64(floor)/(1<<30)), fmt.Sprintf("deploy with --disk %dG or more (or --provider local)", gib))
	}
	_, err := p.agent()
	return err
}
