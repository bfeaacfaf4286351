// Package faashome is the layout of FAAS_HOME: every file and folder name
// faas keeps there, in one place (lima's filenames is the model), and the
// few ways faas writes there: atomic files, locks, stamps, and detached
// faas processes that keep their log there.
//
//	faas.db                 the SQLite store (WAL beside it)
//	code/<sha256>.<ext>     each version's code
//	envs/<key>/             a dependency environment, built once, read-only
//	envs/<key>.lock         held while that environment is built
//	envs/.tmp-<key>-*/      one being built (renamed into place when done)
//	cache/npm/              npm's download cache, shared by builds
//	run/                    what lives only while processes do:
//	  <instance>.sock         local agents' sockets
//	  jobs/<id>/              working directories of running processes
//	  serve.json              the running `faas serve`
//	  autoscale.json          the running watcher
//	  dispatch.lock           held by the one detached dispatcher
//	  tokens.stamp            touched when tokens change
//	  config.stamp            touched when settings change
//	  interpreters.json       launcher scripts resolved to interpreters
//	  agent.key               the secret local agents' tokens derive from
//	  multipass/              files handed to Multipass VMs
//	logs/                   agent, watcher and dispatcher logs
package faashome

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
)

// DBName is the SQLite database's file name.
const DBName = "faas.db"

// Resolve returns FAAS_HOME: $FAAS_HOME, else $XDG_DATA_HOME/faas, else
// ~/.local/share/faas.
func Resolve() (string, error) {
	if h := os.Getenv("FAAS_HOME"); h != "" {
		return filepath.Abs(h)
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "faas"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fault.WithHint(fault.Platformf("find the home directory: %w", err), "set FAAS_HOME")
	}
	return filepath.Join(home, ".local", "share", "faas"), nil
}

// DB is the SQLite database.
func DB(home string) string { return filepath.Join(home, DBName) }

// CodeFile is where code stored under name lives.
func CodeFile(home, name string) string { return filepath.Join(home, "code", filepath.Base(name)) }

// Envs is the folder of dependency environments.
func Envs(home string) string { return filepath.Join(home, "envs") }

// Env is the dependency environment of key (a sha256 in hex).
func Env(home, key string) string { return filepath.Join(home, "envs", filepath.Base(key)) }

// EnvLock is held while the environment of key is built.
func EnvLock(home, key string) string { return filepath.Join(home, "envs", filepath.Base(key)+".lock") }

// Cache is the download cache of a package manager (npm).
func Cache(home, tool string) string { return filepath.Join(home, "cache", filepath.Base(tool)) }

// JobDir is the working directory of a running process.
func JobDir(home, id string) string { return filepath.Join(home, "run", "jobs", id) }

// AgentSocket is a local agent's socket. Unix socket paths are limited to
// 107 bytes; a deep FAAS_HOME gets a short private directory under the
// temporary directory instead, named by the home.
func AgentSocket(home, instance string) string {
	path := filepath.Join(home, "run", instance+".sock")
	if len(path) < 100 {
		return path
	}
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(os.TempDir(), "faas-"+strconv.Itoa(os.Getuid())+"-"+hex.EncodeToString(sum[:6]), instance+".sock")
}

// ServerFile describes the running `faas serve`.
func ServerFile(home string) string { return filepath.Join(home, "run", "serve.json") }

// WatcherFile describes the running autoscale watcher.
func WatcherFile(home string) string { return filepath.Join(home, "run", "autoscale.json") }

// DispatchLock is held by the one detached dispatcher of a home.
func DispatchLock(home string) string { return filepath.Join(home, "run", "dispatch.lock") }

// TokensStamp is touched whenever a token is created or revoked, so that a
// running server reloads its tokens before the next request.
func TokensStamp(home string) string { return filepath.Join(home, "run", "tokens.stamp") }

// FunctionsStamp is touched whenever a function or its current version
// changes (deploy, rollback, rm), so that a process that keeps functions
// in memory (a server) reads them again.
func FunctionsStamp(home string) string { return filepath.Join(home, "run", "functions.stamp") }

// ConfigStamp is touched whenever a setting changes, so that a running
// server reads the settings again.
func ConfigStamp(home string) string { return filepath.Join(home, "run", "config.stamp") }

// AgentKey is the secret local agents' tokens are derived from.
func AgentKey(home string) string { return filepath.Join(home, "run", "agent.key") }

// SecretsKey is the key that seals functions' secrets in the database: a
// file apart from it, FAAS_SECRETS_KEY_FILE when set (a server's operator
// keeps it elsewhere, or shares it between servers of one database).
func SecretsKey(home string) string {
	if p := os.Getenv("FAAS_SECRETS_KEY_FILE"); p != "" {
		return p
	}
	return filepath.Join(home, "keys", "secrets.key")
}

// DatabaseEnv names the environment variable that puts the records in a
// shared PostgreSQL database instead of FAAS_HOME's SQLite file.
const DatabaseEnv = "FAAS_DATABASE_URL"

// DatabaseURL is FAAS_DATABASE_URL: "" for the SQLite database in
// FAAS_HOME.
func DatabaseURL() string { return os.Getenv(DatabaseEnv) }

// Interpreters caches launcher scripts resolved to their interpreters.
func Interpreters(home string) string { return filepath.Join(home, "run", "interpreters.json") }

// MultipassDir holds the files handed to Multipass VMs.
func MultipassDir(home string) string { return filepath.Join(home, "run", "multipass") }

// Logs is the folder of logs.
func Logs(home string) string { return filepath.Join(home, "logs") }

// Log is the log called name (an instance id, "autoscale", "dispatch").
func Log(home, name string) string { return filepath.Join(home, "logs", name+".log") }

// WatcherLog is the autoscale watcher's log.
func WatcherLog(home string) string { return Log(home, "autoscale") }

// DispatcherLog is the detached dispatchers' log.
func DispatcherLog(home string) string { return Log(home, "dispatch") }

// WriteFile writes path atomically (a reader sees the old or the new
// content, never part of one) with mode perm, creating its folder 0700.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// PIDFile is what a long-lived faas process (a server, the watcher) says
// of itself in a JSON file under run/: its pid and that pid's start time,
// so that a reused pid is not taken for it.
type PIDFile struct {
	PID      int   `json:"pid"`
	PIDStart int64 `json:"pid_start"`
}

// WriteJSON writes v as JSON to path, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(path, append(b, '\n'), 0o600)
}

// ReadJSON reads path into v; a missing or unreadable file leaves v as it
// was and says so.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Touch writes a stamp file, whose changed modification time tells a
// running process to read something again.
func Touch(path string, now time.Time) error {
	if err := WriteFile(path, []byte(now.UTC().Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		return fault.Platformf("tell the server: %w", err)
	}
	return nil
}

// Changed reports the modification time of a stamp (zero when missing).
func Changed(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// ErrLocked says another process holds a lock.
var ErrLocked = errors.New("held by another process")

// Lock takes the exclusive lock at path without waiting: ErrLocked when
// another process holds it. Closing the file releases it.
func Lock(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return f, nil
}

// LockWait takes the exclusive lock at path, waiting while another process
// holds it, until ctx ends. Closing the file releases it.
func LockWait(ctx context.Context, path string) (*os.File, error) {
	wait := 5 * time.Millisecond
	for {
		f, err := Lock(path)
		if !errors.Is(err, ErrLocked) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// Detach starts this faas with args in its own session, for home, its
// output appended to logPath, and does not wait for it.
func Detach(home, logPath string, args ...string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find the faas executable: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	cmd := &exec.Cmd{Path: self, Args: append([]string{"faas"}, args...), Stdin: devnull, Stdout: logf, Stderr: logf,
		Env: append(os.Environ(), "FAAS_HOME="+home), SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

// Alive says whether the process the file names still runs.
func (p PIDFile) Alive() bool { return p.PID > 0 && proc.Alive(p.PID, p.PIDStart) }

// Self is this process, as a pid file names it.
func Self() PIDFile { return PIDFile{PID: os.Getpid(), PIDStart: proc.SelfStart()} }

// Server is what run/serve.json says about a running `faas serve`.
type Server struct {
	PIDFile
	Addr      string    `json:"addr"`
	StartedAt time.Time `json:"started_at"`
	Running   bool      `json:"-"`
}

// ReadServer reads run/serve.json; Running says whether that server lives.
func ReadServer(home string) Server {
	var st Server
	if ReadJSON(ServerFile(home), &st) != nil {
		return Server{}
	}
	st.Running = st.Alive()
	return st
}

// WriteServer records this process as the home's server.
func WriteServer(home, addr string, now time.Time) error {
	return WriteJSON(ServerFile(home), Server{PIDFile: Self(), Addr: addr, StartedAt: now.UTC()})
}

// RemoveServer removes run/serve.json if it is this process's.
func RemoveServer(home string) {
	if st := ReadServer(home); st.PID == os.Getpid() {
		_ = os.Remove(ServerFile(home))
	}
}

// Secret reads the 32-byte secret at path, creating it on first use. Two
// processes creating it at once agree: the file appears whole, once (a
// hard link of a finished temporary file, which fails if one exists).
func Secret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte secret", path)
	}
	return b, nil
}

// LinkOrCopy makes dst the file src: a hard link, or where none can be
// made (another file system) a copy with src's mode, written beside dst
// and linked into place, so dst appears whole. A dst that exists is never
// replaced: the error is then fs.ErrExist.
func LinkOrCopy(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(fi.Mode().Perm())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp.Name(), dst)
}
