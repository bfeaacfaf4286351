// Package vminit is PID 1 of a micro-VM guest (the qemu provider's): the
// static agent binary is the initramfs' /init. It loads the image's
// modules, mounts the instance's root (the shared image under its
// copy-on-write layer), brings up the network the agent's port is
// forwarded over, moves into the root, starts `faas agent` (which starts
// up and waits on a pipe for its instance), optionally warms a runtime
// (runs its interpreter once, so its files are in the page cache), and
// then says it is ready on its control port and waits there for its
// instance: the host's message gives the id, the token, a seed for the
// guest's random number generator and the time. Only then does it mount
// the read-only shares of code and dependencies and hand the agent its
// instance. A VM snapshotted
// while it waits (the qemu provider's warm starts) holds no instance's
// secret and no share mounted (QEMU refuses to migrate a guest with a 9p
// export mounted), and every VM restored from it gets an identity and
// randomness of its own. It reaps orphans, and powers the VM off when the
// agent exits (idle, or killed), so the VM's QEMU exits with it. Nothing
// runs through a shell: there is none in the initramfs.
package vminit

import (
	"encoding/json"
	"time"
)

// Paths inside the guest.
const (
	BootPath    = "/faas/boot.json"
	ModulesDir  = "/faas/modules"
	GuestHome   = "/var/lib/faas"
	AgentPath   = "/run/faas/faas"
	AgentPort   = 8377
	GuestIP     = "10.0.2.15"
	CodeTag     = "faascode"
	EnvsTag     = "faasenvs"
	ProbeArg    = "faas.probe=1"
	ReadyMarker = "faas-vminit: agent started"
	ProbeMarker = "faas-vminit: probe ok"
	// CtlPort is the name of the virtio-serial port the host and init
	// talk over: init writes ReadyLine, the host answers with a Config
	// (one JSON line).
	CtlPort   = "faas.ctl"
	ReadyLine = "ready\n"
	// SeedSize is how many random bytes the host sends for the guest's
	// random number generator.
	SeedSize = 64
)

// Boot is what every VM booted from one initrd shares (no secret): the
// initrd's BootPath.
type Boot struct {
	// Warm is a command init runs once before it says it is ready (a
	// runtime's interpreter importing what a worker imports): a snapshot
	// taken then holds its files in the page cache.
	Warm []string `json:"warm,omitempty"`
}

// Marshal is the boot settings' bytes.
func (b Boot) Marshal() []byte {
	j, _ := json.Marshal(b)
	return j
}

// Config is what the host gives the guest over its control port, once
// init is ready: never in the initrd or on a command line, and never in a
// snapshot (the token is each instance's own).
type Config struct {
	Instance string        `json:"instance"`
	Function string        `json:"function"`
	Token    string        `json:"token"`
	Idle     time.Duration `json:"idle"`
	Pinned   bool          `json:"pinned"`
	// InitTimeout bounds a warm worker's start (longer under TCG).
	InitTimeout time.Duration `json:"init_timeout"`
	// Seed is mixed into the guest kernel's random pool, which is then
	// reseeded: a VM restored from a snapshot would otherwise go on from
	// the generator state every other one restored from it holds.
	Seed []byte `json:"seed"`
	// UnixNano is the host's clock: a restored guest's clock stands where
	// it stood when the snapshot was taken.
	UnixNano int64 `json:"unix_nano"`
}

// Marshal is the config's bytes, one line.
func (c Config) Marshal() []byte {
	b, _ := json.Marshal(c)
	return append(b, '\n')
}
