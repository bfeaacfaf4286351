package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SecretsDir is where a jailed function reads its secrets, one file per
// secret (OpenFaaS's /var/openfaas/secrets, Docker's /run/secrets): a
// read-only tmpfs of the jail's own, so a value never touches a disk.
const SecretsDir = "/run/secrets"

// SecretsEnv names the directory of a function's secrets in its
// environment: SecretsDir in a jail, a private directory of the job's
// when the host cannot jail.
const SecretsEnv = "FAAS_SECRETS_DIR"

// secretsFile hands secrets to a jail's init: a memfd (memory only) with
// them as JSON, which the init reads and closes before the function runs.
func secretsFile(secrets map[string][]byte) (*os.File, error) {
	b, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("faas-secrets", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "faas-secrets")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writeSecretsDir is the unjailed way: the secrets as files of a private
// directory in the job's working directory, removed with it.
func writeSecretsDir(workdir string, secrets map[string][]byte) (string, error) {
	dir := filepath.Join(workdir, ".secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	for name, v := range secrets {
		if !plainName(name) {
			return "", fmt.Errorf("bad secret name %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), v, 0o400); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// mountSecrets is the init's part, in the jail's root before the pivot:
// a tmpfs just big enough at SecretsDir, the files the function's own
// (0400), then read-only.
func mountSecrets(root string, fd, uid int) error {
	f := os.NewFile(uintptr(fd), "secrets")
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 8<<20))
	if err != nil {
		return fmt.Errorf("read secrets: %w", err)
	}
	var secrets map[string][]byte
	if err := json.Unmarshal(b, &secrets); err != nil {
		return fmt.Errorf("read secrets: %w", err)
	}
	dir := filepath.Join(root, SecretsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	size := 64 << 10 // a page per file, and the directory
	for _, v := range secrets {
		size += (len(v) + 4096) &^ 4095
	}
	opts := fmt.Sprintf("mode=0500,uid=%d,gid=%d,size=%d,nr_inodes=%d", uid, uid, size, len(secrets)+16)
	const flags = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC
	if err := syscall.Mount("faas-secrets", dir, "tmpfs", flags, opts); err != nil {
		return fmt.Errorf("mount %s: %w", SecretsDir, err)
	}
	for name, v := range secrets {
		if !plainName(name) {
			return fmt.Errorf("bad secret name %q", name)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, v, 0o400); err != nil {
			return err
		}
		if err := os.Chown(p, uid, uid); err != nil {
			return err
		}
	}
	return syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY|flags, "")
}

// plainName says a secret's name is a file name of its own: not empty,
// no '/', not hidden (so not . or ..). Names were validated on the way in;
// the sandbox does not rely on it.
func plainName(name string) bool {
	return name != "" && name[0] != '.' && !strings.ContainsAny(name, "/\x00")
}
