package spare

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/function"
)

// Token is the agent token of instance (or spare) id in a home: an HMAC of
// the id under the home's agent key (run/agent.key), which any faas
// process of the home can derive and no jail can read.
func Token(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// Keeper spawns a home's spares: an agent of the home calls Keep once it
// has started (a launch's own, or a spare that became an instance), off
// any launch's path.
type Keeper struct {
	Home string
	// Self is the faas executable; Idle the agents' idle time (0: theirs).
	Self string
	Idle time.Duration
	// N is how many spares to keep (the local.spares setting).
	N int
}

// Qualifying says whether a version's runtime has spares at all (Keep
// spawns them for it): a handler of Python with a pinned interpreter.
func Qualifying(c function.Config) bool {
	return c.Mode == function.Handler && c.Runtime == function.Python && c.Interpreter != ""
}

// Keep spawns, detached, the spares of w that the home lacks. It does
// nothing when another process is deciding the same right now, or when a
// spare found that this host makes none.
func (k Keeper) Keep(w Want) {
	if k.N <= 0 || IsOff(k.Home) {
		return
	}
	lock, err := Lock(k.Home)
	if err != nil {
		return
	}
	defer lock.Close()
	have := Count(k.Home, w)
	if have >= k.N {
		return
	}
	key, err := faashome.Secret(faashome.AgentKey(k.Home))
	if err != nil {
		return
	}
	for i := have; i < k.N; i++ {
		if k.spawn(w, key) != nil {
			return
		}
	}
}

// spawn starts a spare agent and does not wait for it.
func (k Keeper) spawn(w Want, key []byte) error {
	id := NewID(w.Runtime)
	if err := Prepare(k.Home, Info{ID: id, Runtime: w.Runtime, Interpreter: w.Interpreter, Shape: w.Shape}); err != nil {
		return err
	}
	logf, err := os.OpenFile(faashome.Log(k.Home, id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		Remove(k.Home, id)
		return err
	}
	defer logf.Close()
	args := []string{"faas", "agent", "--instance", id, "--spare", string(w.Runtime), "--interpreter", w.Interpreter,
		"--shape", w.Shape, "--home", k.Home, "--socket", faashome.AgentSocket(k.Home, id), "--hold-db", k.Home}
	if k.Idle > 0 {
		args = append(args, "--idle", k.Idle.String())
	}
	env := []string{"FAAS_AGENT_TOKEN=" + Token(key, id)}
	for _, kv := range os.Environ() {
		if len(kv) < 17 || kv[:17] != "FAAS_AGENT_TOKEN=" {
			env = append(env, kv)
		}
	}
	cmd := &exec.Cmd{Path: k.Self, Args: args, Stdout: logf, Stderr: logf, Env: env,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		Remove(k.Home, id)
		return err
	}
	go func() { _ = cmd.Wait() }() // reaped while this process lives
	return nil
}
