// Package vminit is PID 1 of a micro-VM guest (the qemu provider's): the
// static agent binary is the initramfs' /init. It loads the image's
// modules, mounts the instance's root (the shared image under its
// copy-on-write layer), the read-only shares of code and dependencies,
// brings up the network the agent's port is forwarded over, moves into
// the root and runs `faas agent` there; it reaps orphans, and powers the
// VM off when the agent exits (idle, or killed), so the VM's QEMU exits
// with it. Nothing runs through a shell: there is none in the initramfs.
package vminit

import (
	"encoding/json"
	"time"
)

// Paths inside the guest.
const (
	ConfigPath  = "/faas/instance.json"
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
)

// Config is what the host gives the guest, in the instance's initrd (a
// file only the host user reads; the token is never on a command line).
type Config struct {
	Instance string        `json:"instance"`
	Function string        `json:"function"`
	Token    string        `json:"token"`
	Idle     time.Duration `json:"idle"`
	Pinned   bool          `json:"pinned"`
	// InitTimeout bounds a warm worker's start (longer under TCG).
	InitTimeout time.Duration `json:"init_timeout"`
}

// Marshal is the config's bytes.
func (c Config) Marshal() []byte {
	b, _ := json.Marshal(c)
	return b
}
