package fakemultipass

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Instance states, as multipass prints them.
const (
	stRunning  = "Running"
	stStopped  = "Stopped"
	stDeleted  = "Deleted"
	stUnknown  = "Unknown"
	stDelayed  = "Delayed Shutdown"
	guestHome  = "/home/ubuntu"
	guestUser  = "ubuntu"
	baseMemory = 150 << 20
)

// state is the daemon's view of every instance, kept in one JSON file.
type state struct {
	IPBase      int         `json:"ip_base"`
	IPSeq       int         `json:"ip_seq"`
	Launches    int         `json:"launches"`
	PrimaryName *string     `json:"primary_name,omitempty"`
	Instances   []*instance `json:"instances"`
}

type instance struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Preparing marks a launch under way: hidden from list and info, and
	// its name refused to other launches. PreparerPID is the launching
	// process, so a killed launch does not block the name forever.
	Preparing     bool   `json:"preparing,omitempty"`
	PreparerPID   int    `json:"preparer_pid,omitempty"`
	PreparerStart uint64 `json:"preparer_start,omitempty"`

	Image   string `json:"image"`
	Release string `json:"release"` // image release title, "" for custom images
	CPUs    int    `json:"cpus"`
	Memory  int64  `json:"memory"`
	Disk    int64  `json:"disk"`
	IP      string `json:"ip"`
	Created int64  `json:"created"`
	// ShutdownAt is when a delayed shutdown (stop -t) happens, unix seconds.
	ShutdownAt      int64             `json:"shutdown_at,omitempty"`
	Units           map[string]*unit  `json:"units,omitempty"`
	Mounts          map[string]string `json:"mounts,omitempty"` // target → host source
	UnknownOnceDone bool              `json:"unknown_once_done,omitempty"`
	// Packages and RunCmd are what cloud-init was asked for; Installed
	// the packages the guest has; CloudInitErrors what failed at first
	// boot (`cloud-init status` then says error).
	Packages        []string `json:"packages,omitempty"`
	RunCmd          []string `json:"runcmd,omitempty"`
	Installed       []string `json:"installed,omitempty"`
	CloudInitErrors []string `json:"cloud_init_errors,omitempty"`
	// GLIBC is the guest's glibc version, for the programs brought in.
	GLIBC string `json:"glibc,omitempty"`
}

// unit is a systemd service of an instance, started by the systemctl shim.
type unit struct {
	Enabled bool `json:"enabled,omitempty"`
	PID     int  `json:"pid,omitempty"`
	// Start is the pid's start time (/proc/<pid>/stat field 22), so a
	// reused pid is never taken for the unit.
	Start uint64 `json:"start,omitempty"`
	// Stopped says the unit was stopped on purpose (inactive, not failed).
	Stopped bool `json:"stopped,omitempty"`
}

// store is the locked state of one invocation.
type store struct {
	c    *cli
	lock *os.File
	st   *state
}

func (c *cli) statePath() string { return filepath.Join(c.dir, "state.json") }

// open locks the state directory and loads the state.
func (c *cli) open() (*store, error) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(c.dir, "state.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &store{c: c, lock: f, st: &state{}}
	data, err := os.ReadFile(c.statePath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Seed the addresses per state directory, so that tests running
		// side by side rarely hand out the same loopback address.
		s.st.IPBase = rand.IntN(254 * 200)
	case err != nil:
		s.close()
		return nil, err
	default:
		if err := json.Unmarshal(data, s.st); err != nil {
			s.close()
			return nil, fmt.Errorf("corrupt state %s: %w", c.statePath(), err)
		}
	}
	s.normalize()
	return s, nil
}

func (s *store) save() error {
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.c.statePath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.c.statePath())
}

func (s *store) close() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// commit saves and unlocks.
func (s *store) commit() error {
	defer s.close()
	return s.save()
}

// normalize applies what happened since the last call: dead launchers,
// due delayed shutdowns and injected Unknown states.
func (s *store) normalize() {
	now := time.Now().Unix()
	kept := s.st.Instances[:0]
	for _, in := range s.st.Instances {
		if in.Preparing && !alive(in.PreparerPID, in.PreparerStart) {
			os.RemoveAll(s.c.instanceDir(in.Name))
			continue
		}
		kept = append(kept, in)
	}
	s.st.Instances = kept
	for _, in := range s.st.Instances {
		if in.Preparing {
			continue
		}
		if in.State == stDelayed && in.ShutdownAt <= now {
			s.c.stopUnits(in)
			in.State, in.ShutdownAt = stStopped, 0
		}
		if s.c.named(EnvUnknownOnce, in.Name) && !in.UnknownOnceDone && in.State == stRunning {
			s.c.stopUnits(in)
			in.State, in.UnknownOnceDone = stUnknown, true
		}
		if s.c.named(EnvUnknown, in.Name) && in.State != stDeleted {
			// Stuck in Unknown: nothing in it answers.
			s.c.stopUnits(in)
		}
	}
}

// find returns the instance called name, ignoring launches under way.
func (s *store) find(name string) *instance {
	for _, in := range s.st.Instances {
		if in.Name == name && !in.Preparing {
			return in
		}
	}
	return nil
}

func (s *store) findAny(name string) *instance {
	for _, in := range s.st.Instances {
		if in.Name == name {
			return in
		}
	}
	return nil
}

func (s *store) remove(name string) {
	kept := s.st.Instances[:0]
	for _, in := range s.st.Instances {
		if in.Name != name {
			kept = append(kept, in)
		}
	}
	s.st.Instances = kept
}

// visible lists the instances as `list` orders them: live ones first in
// creation order, then the deleted ones.
func (s *store) visible() []*instance {
	var live, dead []*instance
	for _, in := range s.st.Instances {
		switch {
		case in.Preparing:
		case in.State == stDeleted:
			dead = append(dead, in)
		default:
			live = append(live, in)
		}
	}
	return append(live, dead...)
}

func (s *store) primaryName() string {
	if s.st.PrimaryName != nil {
		return *s.st.PrimaryName
	}
	return "primary"
}

// nextIP hands out 127.0.X.Y (X ≥ 2), never 127.0.0.1.
func (s *store) nextIP() string {
	n := s.st.IPBase + s.st.IPSeq
	s.st.IPSeq++
	return fmt.Sprintf("127.0.%d.%d", 2+(n/254)%250, 1+n%254)
}

// state is what the instance reports, with injected faults applied.
func (c *cli) state(in *instance) string {
	if in.State != stDeleted && c.named(EnvUnknown, in.Name) {
		return stUnknown
	}
	return in.State
}

func running(state string) bool { return state == stRunning || state == stDelayed }

func (c *cli) instanceDir(name string) string { return filepath.Join(c.dir, "instances", name) }

// root is the directory standing for the instance's filesystem.
func (c *cli) root(name string) string { return filepath.Join(c.instanceDir(name), "root") }

func imageHash(release string) string {
	sum := sha256.Sum256([]byte("fakemultipass image " + release))
	return hex.EncodeToString(sum[:])
}
