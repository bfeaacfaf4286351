// Package cluster spreads invocations over hosts: an embedded NATS server
// (or a connection to an external one), the messages `faas serve` and
// `faas worker` exchange, the server's registry of workers (heartbeats,
// lost after 3 s of silence), its placer (warm first, then a cold start on
// the worker with the most free capacity, a busy worker refusing), and the
// worker itself: its instances, its heartbeats and the results it keeps
// until a server has recorded them. docs/cluster.md is its reference.
package cluster

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// Subjects. A function's name is a valid NATS token (letters, digits,
// hyphens), so it can stand in a subject.
const (
	// SubjHeartbeat carries every worker's Heartbeat, each second.
	SubjHeartbeat = "faas.hb"
	// SubjResult carries results sent again until a server acknowledged
	// them (queue group QueueServers: one server records each).
	SubjResult = "faas.result"
	// QueueWorkers is the queue group of the warm subjects: one worker
	// answers.
	QueueWorkers = "workers"
	// QueueServers is the queue group of SubjResult.
	QueueServers = "servers"
)

// WarmSubject is where the workers holding a warm instance of a version
// with a free slot listen.
func WarmSubject(function string, version int) string {
	return "faas.warm." + function + "." + strconv.Itoa(version)
}

// RunSubject is one worker's own subject: a cold start placed on it.
func RunSubject(worker string) string { return "faas.run." + worker }

// AckSubject is where a worker hears that a server recorded a result.
func AckSubject(worker string) string { return "faas.ack." + worker }

// HeartbeatEvery is how often a worker reports; LostAfter how long a
// silent worker is still counted on.
const (
	HeartbeatEvery = time.Second
	LostAfter      = 3 * time.Second
)

// Heartbeat is what a worker says of itself each second.
type Heartbeat struct {
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Version   string    `json:"version"`
	Providers []string  `json:"providers"`
	Capacity  int       `json:"capacity"`
	Load      int       `json:"load"`
	Started   time.Time `json:"started"`
	Time      time.Time `json:"time"`
	// Instances are the worker's instances, with their usage.
	Instances []InstanceInfo `json:"instances"`
}

// InstanceInfo is one of a worker's instances as its heartbeat tells it.
type InstanceInfo struct {
	ID       string  `json:"id"`
	Function string  `json:"function"`
	Version  int     `json:"version"`
	Provider string  `json:"provider"`
	Slots    int     `json:"slots"`
	InFlight int     `json:"in_flight"`
	RSSBytes int64   `json:"rss_bytes"`
	CPUPct   float64 `json:"cpu_pct"`
}

// Free is how many more invocations the worker takes now.
func (h Heartbeat) Free() int { return max(h.Capacity-h.Load, 0) }

// RunRequest asks a worker to run one attempt of a job. The invocation
// comes without its code: the worker has it by sha256, or fetches it from
// the server.
type RunRequest struct {
	JobID   string              `json:"job_id"`
	Attempt int                 `json:"attempt"`
	Inv     faastype.Invocation `json:"inv"`
	// Warm says the request came on a warm subject: a worker without a
	// free warm slot refuses it rather than starting an instance.
	Warm bool `json:"warm,omitempty"`
}

// Reply kinds, in the order a worker sends them: accepted (or busy), then
// result.
const (
	ReplyAccepted = "accepted"
	ReplyBusy     = "busy"
	ReplyResult   = "result"
)

// Reply is a worker's answer to a RunRequest.
type Reply struct {
	Kind    string `json:"kind"`
	Worker  string `json:"worker"`
	JobID   string `json:"job_id"`
	Attempt int    `json:"attempt"`
	// Outcome is the run's, when Kind is result and Error is empty.
	Outcome *faastype.Outcome `json:"outcome,omitempty"`
	// Error is a platform failure on the worker (the code could not be
	// fetched, the instance would not start).
	Error string `json:"error,omitempty"`
}

// Ack tells a worker a server recorded one of its results.
type Ack struct {
	JobID   string `json:"job_id"`
	Attempt int    `json:"attempt"`
}

// ValidName checks a worker's name: it stands in NATS subjects and in job
// records, so it follows function names' rules (a letter first, letters,
// digits and hyphens, at most 63).
func ValidName(name string) error {
	if err := function.ValidateName(name); err != nil {
		return fault.Usagef("worker name %q: use a letter first, then letters, digits and hyphens (at most 63)", name)
	}
	return nil
}

// DefaultName is a worker's name when none is given: the host's name up
// to its first dot, lower-cased.
func DefaultName() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(strings.ToLower(h), ".")
	if ValidName(h) != nil {
		return "worker"
	}
	return h
}
