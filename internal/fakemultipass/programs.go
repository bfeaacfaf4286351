package fakemultipass

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// EnvOffline, when 1, stands for a host without network: cloud-init's
// apt cannot fetch packages the image lacks (launches still succeed, as
// they do: multipass waits only for cloud-init's boot-finished).
const EnvOffline = "FAAS_FAKE_MULTIPASS_OFFLINE"

// packagePrograms are the Ubuntu packages the fake knows, with the
// programs each puts in /usr/bin. The shims (cat, mkdir, sudo,
// systemctl…) are the fake's own and never host programs.
var packagePrograms = map[string][]string{
	"coreutils": {"ls", "cp", "mv", "ln", "chown", "touch", "echo", "printf", "pwd", "env", "id", "whoami", "uname",
		"date", "sleep", "head", "tail", "cut", "sort", "uniq", "wc", "tr", "tee", "stat", "df", "du", "nproc",
		"readlink", "realpath", "dirname", "basename", "mktemp", "timeout"},
	"bash":        {"bash"},
	"dash":        {"sh", "dash"},
	"python3":     {"python3"},
	"grep":        {"grep"},
	"sed":         {"sed"},
	"mawk":        {"awk"},
	"findutils":   {"find", "xargs"},
	"tar":         {"tar"},
	"gzip":        {"gzip", "gunzip"},
	"procps":      {"ps", "free", "kill"},
	"hostname":    {"hostname"},
	"curl":        {"curl"},
	"wget":        {"wget"},
	"git":         {"git"},
	"perl":        {"perl"},
	"diffutils":   {"diff"},
	"nodejs":      {"node", "nodejs"},
	"npm":         {"npm", "npx"},
	"python3-pip": {"pip3", "pip"},
}

// imagePackages are the packages of an Ubuntu cloud image the fake
// reproduces: python3 is there, nodejs is not.
var imagePackages = []string{"coreutils", "bash", "dash", "python3", "grep", "sed", "mawk", "findutils", "tar", "gzip",
	"procps", "hostname", "curl", "wget", "git", "perl", "diffutils"}

// installPackage puts a package's programs in the guest's /usr/bin: small
// scripts that run the host's program (the stand-in runs guest programs on
// the host), so that the guest finds only what its packages installed.
// Programs the host lacks are left out.
func (c *cli) installPackage(root, pkg string) {
	bin := filepath.Join(root, "usr/bin")
	for _, prog := range packagePrograms[pkg] {
		host, ok := c.hostProgram(prog)
		if !ok {
			continue
		}
		script := "#!/bin/sh\n# " + pkg + " (the stand-in multipass runs the host's " + prog + ")\nexec '" +
			strings.ReplaceAll(host, "'", `'\''`) + "' \"$@\"\n"
		_ = os.WriteFile(filepath.Join(bin, prog), []byte(script), 0o755)
	}
}

// hostProgram finds a host program for a guest one. A launcher script for
// python3 or node (pyenv, nvm) is resolved to the interpreter it starts,
// which then runs without the launcher's environment. Answers are kept in
// programs.json of the state directory.
func (c *cli) hostProgram(name string) (string, bool) {
	cachePath := filepath.Join(c.dir, "programs.json")
	cache := map[string]string{}
	if b, err := os.ReadFile(cachePath); err == nil {
		_ = json.Unmarshal(b, &cache)
	}
	if p, ok := cache[name]; ok && (p == "" || isFile(p)) {
		return p, p != ""
	}
	p, err := exec.LookPath(name)
	if err == nil {
		p = resolveLauncher(name, p)
	} else {
		p = ""
	}
	cache[name] = p
	if b, err := json.Marshal(cache); err == nil {
		_ = writeFileAtomic(cachePath, b, 0o644)
	}
	return p, p != ""
}

func resolveLauncher(name, p string) string {
	var probe []string
	switch name {
	case "python3":
		probe = []string{"-c", "import sys; print(sys.executable)"}
	case "node", "nodejs":
		probe = []string{"-e", "process.stdout.write(process.execPath)"}
	default:
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, probe...).Output()
	if r := string(bytes.TrimSpace(out)); err == nil && filepath.IsAbs(r) && isFile(r) {
		return r
	}
	return p
}

func writeFileAtomic(p string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	_ = os.Chmod(tmp.Name(), mode)
	return os.Rename(tmp.Name(), p)
}

// installPackages is cloud-init's `packages`: those the image lacks come
// from the archive, which needs network; a failure is logged and recorded
// (cloud-init status: error), never a failed launch.
func (c *cli) installPackages(root string, image imageSpec, wanted []string) (installed, errs []string) {
	installed = append(installed, image.packages...)
	var missing []string
	for _, p := range wanted {
		if !slices.Contains(installed, p) {
			missing = append(missing, p)
		}
	}
	if len(wanted) == 0 {
		return installed, nil
	}
	if c.getenv(EnvOffline) == "1" {
		errs = append(errs, "W: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/noble/InRelease  Temporary failure resolving 'archive.ubuntu.com'")
		for _, p := range missing {
			errs = append(errs, "E: Unable to locate package "+p)
		}
		return installed, errs
	}
	for _, p := range missing {
		if _, known := packagePrograms[p]; !known {
			errs = append(errs, "E: Unable to locate package "+p)
			continue
		}
		c.installPackage(root, p)
		installed = append(installed, p)
	}
	return installed, errs
}
