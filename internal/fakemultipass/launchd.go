package fakemultipass

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// envFinishLaunch names the instance a detached daemon process finishes
// creating (internal: set by detachLaunch).
const envFinishLaunch = "FAAS_FAKE_MULTIPASS_FINISH_LAUNCH"

// pendingLaunch is a launch the client gave up on, kept for the daemon
// process that finishes it.
type pendingLaunch struct {
	Name      string      `json:"name"`
	Image     string      `json:"image"`
	Release   string      `json:"release"`
	Disk      int64       `json:"disk"`
	DiskSet   bool        `json:"disk_set"`
	CloudText []byte      `json:"cloud_text,omitempty"`
	Mounts    [][2]string `json:"mounts,omitempty"`
	LaunchNo  int         `json:"launch_no"`
	// At is when the creation is done, unix nanoseconds.
	At int64 `json:"at"`
}

func pendingPath(c *cli, name string) string {
	return filepath.Join(c.instanceDir(name), "launch.json")
}

// detachLaunch hands a reserved launch to a detached process standing for
// the daemon, which creates the instance at `at` (the client has given up
// by then). The process becomes the reservation's preparer, so the name
// stays taken while it runs and is freed if it dies.
func (c *cli) detachLaunch(r *launchReq, release string, at time.Time) error {
	p := pendingLaunch{Name: r.name, Image: r.image, Release: release, Disk: r.disk, DiskSet: r.diskSet,
		CloudText: r.cloudText, Mounts: r.mounts, LaunchNo: r.launchNo, At: at.UnixNano()}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.instanceDir(r.name), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pendingPath(c, r.name), data, 0o644); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	s, err := c.open()
	if err != nil {
		return err
	}
	defer s.close()
	// argv[0] is kept: it is how a test binary standing for multipass
	// knows to run Main.
	cmd := &exec.Cmd{Path: self, Args: []string{os.Args[0]}, Env: append(os.Environ(), envFinishLaunch+"="+r.name),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if in := s.findAny(r.name); in != nil {
		in.PreparerPID, in.PreparerStart = pid, startTime(pid)
	}
	return s.commit()
}

// finishDetached is the detached daemon process: it waits until the
// creation is due, then creates the instance as a launch would have.
func (c *cli) finishDetached(name string) int {
	data, err := os.ReadFile(pendingPath(c, name))
	if err != nil {
		return 1
	}
	var p pendingLaunch
	if err := json.Unmarshal(data, &p); err != nil {
		return 1
	}
	_ = os.Remove(pendingPath(c, name))
	time.Sleep(time.Until(time.Unix(0, p.At)))
	r := &launchReq{name: p.Name, image: p.Image, disk: p.Disk, diskSet: p.DiskSet, cloudText: p.CloudText, mounts: p.Mounts, launchNo: p.LaunchNo}
	if len(p.CloudText) > 0 {
		r.cloud, _ = parseCloudConfig(p.CloudText)
	}
	if _, msg := c.create(r, p.Release); msg != "" {
		return 2
	}
	return 0
}
