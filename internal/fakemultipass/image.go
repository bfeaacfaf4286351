package fakemultipass

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// images maps the aliases the fake knows to release titles.
var images = map[string]string{
	"24.04": "24.04 LTS", "noble": "24.04 LTS", "lts": "24.04 LTS",
	"22.04": "22.04 LTS", "jammy": "22.04 LTS",
	"20.04": "20.04 LTS", "focal": "20.04 LTS",
	"24.10": "24.10", "oracular": "24.10",
	"25.04": "25.04", "plucky": "25.04",
	"25.10": "25.10", "questing": "25.10",
	"devel": "26.04", "daily": "26.04",
}

// releases describes each release's cloud image as the fake reproduces it:
// the guest's PRETTY_NAME, the image's virtual size (below which `launch
// --disk` is refused) and its glibc.
var releases = map[string]struct {
	pretty string
	size   int64
	glibc  string
}{
	"24.04 LTS": {"Ubuntu 24.04.1 LTS", 3584 << 20, "2.39"},
	"22.04 LTS": {"Ubuntu 22.04.5 LTS", 2252 << 20, "2.35"},
	"20.04 LTS": {"Ubuntu 20.04.6 LTS", 2252 << 20, "2.31"},
	"24.10":     {"Ubuntu 24.10", 3584 << 20, "2.40"},
	"25.04":     {"Ubuntu 25.04", 3584 << 20, "2.41"},
	"25.10":     {"Ubuntu 25.10", 3584 << 20, "2.42"},
	"26.04":     {"Ubuntu Resolute Raccoon (development branch)", 3584 << 20, "2.42"},
}

func prettyName(release string) string {
	if r, ok := releases[release]; ok {
		return r.pretty
	}
	return "Ubuntu 24.04.1 LTS"
}

// resolveImage is the daemon's image lookup: the release title of an
// image ("" for custom images) or the failure to print.
func (c *cli) resolveImage(r *launchReq) (string, string) {
	low := strings.ToLower(r.image)
	switch {
	case strings.HasPrefix(low, "file://"):
		// The daemon reads it, from its own mount namespace.
		p := r.image[len("file://"):]
		if _, err := os.Stat(p); err != nil || c.snapAccess(p) == snapAbsent {
			return "", fmt.Sprintf("Custom image `%s` does not exist.", p)
		}
		return "", ""
	case strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://"):
		return "", ""
	}
	if r.remote != "release" && r.remote != "daily" {
		return "", fmt.Sprintf("Remote \"%s\" is unknown or unreachable.", r.remote)
	}
	if r.image == "" {
		return images["24.04"], ""
	}
	rel, ok := images[low]
	if !ok {
		return "", fmt.Sprintf("Unable to find an image matching \"%s\" in remote \"%s\".", r.image, r.remote)
	}
	return rel, ""
}

// imageSpec is what an instance's image brings: its minimum disk, its
// glibc and its packages.
type imageSpec struct {
	minDisk  int64
	glibc    string
	packages []string
}

// imageFor describes the image of a launch. A custom `file://` image's
// minimum is its virtual size (qcow2 header, else the file's size); its
// packages are the cloud image's plus those of the `.manifest` beside it,
// in the format Ubuntu publishes beside its cloud images (`name<TAB>version`
// per line): that is how a test gives a prepared image nodejs.
func imageFor(r *launchReq, release string) imageSpec {
	spec := imageSpec{glibc: "2.39", packages: imagePackages}
	if rel, ok := releases[release]; ok {
		spec.minDisk, spec.glibc = rel.size, rel.glibc
	}
	if p, ok := strings.CutPrefix(r.image, "file://"); ok {
		spec.minDisk = virtualSize(p)
		manifest := strings.TrimSuffix(p, filepath.Ext(p)) + ".manifest"
		pkgs, glibc := readManifest(manifest)
		spec.packages = append(append([]string{}, imagePackages...), pkgs...)
		if glibc != "" {
			spec.glibc = glibc
		}
	}
	return spec
}

// virtualSize is a disk image's size as a guest sees it: a qcow2 header's
// size field, else the size of the (raw) file.
func virtualSize(p string) int64 {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err == nil && string(hdr[:4]) == "QFI\xfb" {
		return int64(binary.BigEndian.Uint64(hdr[24:32]))
	}
	if fi, err := f.Stat(); err == nil {
		return fi.Size()
	}
	return 0
}

// readManifest lists the packages of an image manifest and the version of
// its glibc (libc6 2.39-0ubuntu8 → 2.39).
func readManifest(p string) ([]string, string) {
	f, err := os.Open(p)
	if err != nil {
		return nil, ""
	}
	defer f.Close()
	var pkgs []string
	glibc := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "snap:") {
			continue
		}
		name, _, _ := strings.Cut(fields[0], ":") // nodejs:amd64
		pkgs = append(pkgs, name)
		if name == "libc6" && len(fields) > 1 {
			v, _, _ := strings.Cut(fields[1], "-")
			glibc = v
		}
	}
	return pkgs, glibc
}
