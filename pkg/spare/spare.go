// Package spare is the layout and the claim of spare agents (OpenWhisk's
// stem cells): an agent per FAAS_HOME and runtime that has already built
// its worker's jail and started the interpreter and its bootstrap, with
// no function, and waits to become the next cold start's instance.
//
// A spare lives in run/spares/ID: its code directory (task, bound at
// /var/task in its jail, empty until it is claimed) and one state file,
// starting (written by whoever spawned it), free (written by the agent once
// its stem worker is up: the spare can be claimed) or claimed. Claiming is
// a rename of free to claimed: of two processes that try at once, exactly
// one wins. A spare is claimed once, by one instance, and never goes back.
package spare

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
)

// The state files of a spare's directory.
const (
	starting = "starting"
	free     = "free"
	claimed  = "claimed"
)

// Info is what a spare's state file says of it.
type Info struct {
	ID      string           `json:"id"`
	Runtime function.Runtime `json:"runtime"`
	// Interpreter is the program its stem runs.
	Interpreter string `json:"interpreter"`
	// Shape names everything else its jail and agent were made with
	// (Shape): only a launch of the same shape may claim it.
	Shape    string `json:"shape"`
	PID      int    `json:"pid"`
	PIDStart int64  `json:"pid_start"`
}

// Alive says whether the spare's agent still runs.
func (i Info) Alive() bool { return i.PID > 0 && proc.Alive(i.PID, i.PIDStart) }

// Root is where a home's spares live.
func Root(home string) string { return filepath.Join(home, "run", "spares") }

// Dir is one spare's directory.
func Dir(home, id string) string { return filepath.Join(Root(home), filepath.Base(id)) }

// TaskDir is a spare's code directory, its jail's /var/task.
func TaskDir(home, id string) string { return filepath.Join(Dir(home, id), "task") }

// NewID names a new spare of rt: spare-RUNTIME-RANDOM.
func NewID(rt function.Runtime) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "spare-" + string(rt) + "-" + hex.EncodeToString(b[:])
}

// Prepare makes a new spare's directory, its empty code directory, and its
// starting file (pid 0 until Started says which process it is).
func Prepare(home string, info Info) error {
	if err := os.MkdirAll(TaskDir(home, info.ID), 0o755); err != nil {
		return err
	}
	// The directories above the code are the home's (0700); the code
	// directory itself is bound into the jail, where its uid must read it.
	if err := os.Chmod(TaskDir(home, info.ID), 0o755); err != nil {
		return err
	}
	return faashome.WriteJSON(filepath.Join(Dir(home, info.ID), starting), info)
}

// Started records the process of a spare that is starting.
func Started(home string, info Info) error {
	return faashome.WriteJSON(filepath.Join(Dir(home, info.ID), starting), info)
}

// MarkFree says a spare can be claimed: its agent calls it once its stem
// is up. It fails if the spare is no longer starting.
func MarkFree(home string, info Info) error {
	dir := Dir(home, info.ID)
	if _, err := os.Stat(filepath.Join(dir, starting)); err != nil {
		return err
	}
	if err := faashome.WriteJSON(filepath.Join(dir, free+".new"), info); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, free+".new"), filepath.Join(dir, free)); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, starting))
}

// Take claims the spare id for its own agent (which then exits): false
// when someone else claimed it first, and the agent must wait for them.
func Take(home, id string) bool {
	dir := Dir(home, id)
	if os.Rename(filepath.Join(dir, free), filepath.Join(dir, claimed)) == nil {
		return true
	}
	// Never free yet: still starting, nobody can have claimed it.
	return os.Remove(filepath.Join(dir, starting)) == nil
}

// Off records that this home's host makes no spares, and why: launches
// then spawn none (IsOff).
func Off(home, why string) {
	_ = faashome.WriteFile(filepath.Join(Root(home), "off"), []byte(why+"\n"), 0o600)
}

// IsOff says whether a spare found that this host makes none.
func IsOff(home string) bool {
	_, err := os.Stat(filepath.Join(Root(home), "off"))
	return err == nil
}

// Remove deletes a spare's directory (its agent has ended or was claimed
// and moved on).
func Remove(home, id string) { _ = os.RemoveAll(Dir(home, id)) }

// Want is what a launch would claim: a spare of this runtime, interpreter
// and shape.
type Want struct {
	Runtime     function.Runtime
	Interpreter string
	Shape       string
}

func (w Want) matches(i Info) bool {
	return i.Runtime == w.Runtime && i.Interpreter == w.Interpreter && i.Shape == w.Shape
}

// Claim takes a free spare that matches w: renames its free file to
// claimed, which only one process can do. ok is false when there is none.
// Spares whose agent died are cleared on the way.
func Claim(home string, w Want) (Info, bool) {
	for _, id := range ids(home) {
		var info Info
		dir := Dir(home, id)
		if faashome.ReadJSON(filepath.Join(dir, free), &info) != nil || info.ID != id || !w.matches(info) {
			continue
		}
		if os.Rename(filepath.Join(dir, free), filepath.Join(dir, claimed)) != nil {
			continue // another launch was first
		}
		if !info.Alive() {
			Remove(home, id)
			continue
		}
		return info, true
	}
	return Info{}, false
}

// Count is how many spares matching w are free or starting with their
// agent alive (or, just prepared, with no agent yet).
func Count(home string, w Want) int {
	n := 0
	for _, id := range ids(home) {
		dir := Dir(home, id)
		for _, state := range []string{free, starting} {
			var info Info
			if faashome.ReadJSON(filepath.Join(dir, state), &info) != nil || !w.matches(info) {
				continue
			}
			if info.PID == 0 && young(filepath.Join(dir, state)) || info.Alive() {
				n++
			} else if state == starting || Take(home, id) {
				Remove(home, id)
			}
			break
		}
	}
	return n
}

// young says a spare prepared but not yet started by its agent (pid 0)
// may still start: its spawner died otherwise.
func young(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) < 30*time.Second
}

// Lock serialises the decision to spawn spares in a home: closing the file
// releases it; faashome.ErrLocked when another process decides right now.
func Lock(home string) (*os.File, error) {
	return faashome.Lock(filepath.Join(Root(home), "spawn.lock"))
}

func ids(home string) []string {
	entries, err := os.ReadDir(Root(home))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "spare-") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// ignoredEnv are the FAAS_* variables that change nothing of a spare.
var ignoredEnv = map[string]bool{"FAAS_HOME": true, "FAAS_DEBUG": true, "FAAS_FAST_INVOKE": true, "FAAS_AGENT_TOKEN": true}

// Shape names what a spare's agent and jail are made of beyond its runtime
// and interpreter: the faas executable, and the FAAS_* environment its
// agent inherits (the sandbox, the jail's share, the idle time, the
// interpreters). A launch claims only a spare of its own shape.
func Shape(self string, env []string) string {
	var keep []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FAAS_") && !ignoredEnv[k] && v != "" {
			keep = append(keep, kv)
		}
	}
	sort.Strings(keep)
	h := sha256.New()
	h.Write([]byte(self))
	if fi, err := os.Stat(self); err == nil {
		h.Write([]byte(fi.ModTime().String()))
	}
	for _, kv := range keep {
		h.Write([]byte{0})
		h.Write([]byte(kv))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// ErrNotQualified says a version cannot start from a spare.
var ErrNotQualified = errors.New("not qualified")

// Qualifies says whether a version can run in a spare's jail: one made
// with no function, whose shape nothing of the version may change. It
// returns why not.
//
// A spare's jail has the default /tmp size, no network, no secrets, no
// dependency environment and a single code directory; its interpreter has
// started with faas' own environment. So a version qualifies when it is a
// handler of the spare's runtime, a single file, with no dependencies, no
// secrets, no --network, the default --tmp, a pinned interpreter, and no
// --env variable that its interpreter reads at start (PYTHON*, NODE_*,
// LD_*, LC_*, LANG, LANGUAGE). Memory and CPUs are set on the spare's
// cgroups when it is claimed.
func Qualifies(inv faastype.Invocation) (bool, string) {
	c := inv.Config
	switch {
	case c.Mode != function.Handler:
		return false, "not a handler"
	case c.Runtime != function.Python:
		return false, "no spares for the " + string(c.Runtime) + " runtime"
	case inv.Tree:
		return false, "a directory"
	case inv.Deps != "":
		return false, "a dependency environment"
	case len(c.Secrets) > 0:
		return false, "secrets"
	case len(c.Network) > 0:
		return false, "a network"
	case c.Tmp() != function.DefaultTmpMB:
		return false, "its own /tmp size"
	case c.Interpreter == "":
		return false, "no pinned interpreter"
	}
	for k := range c.Env {
		for _, p := range []string{"PYTHON", "NODE_", "LD_", "LC_"} {
			if strings.HasPrefix(k, p) {
				return false, "--env " + k
			}
		}
		if k == "LANG" || k == "LANGUAGE" {
			return false, "--env " + k
		}
	}
	return true, ""
}
