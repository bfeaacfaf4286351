package fakemultipass

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat returns a process's state letter, session id and start time
// from /proc/<pid>/stat.
func procStat(pid int) (st byte, session int, start uint64, ok bool) {
	if pid <= 0 {
		return 0, 0, 0, false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	// After "pid (comm) ": state ppid pgrp session ... starttime is field 22.
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, 0, false
	}
	session, _ = strconv.Atoi(f[3])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], session, start, true
}

func startTime(pid int) uint64 {
	_, _, start, _ := procStat(pid)
	return start
}

// alive says whether pid runs and is the process that started at start
// (0: any); zombies are dead.
func alive(pid int, start uint64) bool {
	st, _, s, ok := procStat(pid)
	if !ok || st == 'Z' || st == 'X' || st == 'x' {
		return false
	}
	return start == 0 || s == start
}

// sessionMembers lists the live processes of the session a unit's process
// led. When the leader's pid now belongs to another process, the session
// is not the unit's and nothing is returned.
func sessionMembers(leader int, start uint64) []int {
	if leader <= 0 {
		return nil
	}
	if _, _, s, ok := procStat(leader); ok && s != start {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, sid, _, ok := procStat(pid)
		if ok && sid == leader && st != 'Z' && st != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killUnit ends every process of a unit: SIGTERM, then SIGKILL after 2 s.
func killUnit(u *unit) {
	pids := sessionMembers(u.PID, u.Start)
	if len(pids) == 0 {
		return
	}
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if len(sessionMembers(u.PID, u.Start)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range sessionMembers(u.PID, u.Start) {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	deadline = time.Now().Add(time.Second)
	for time.Now().Before(deadline) && len(sessionMembers(u.PID, u.Start)) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

// rss is a process's resident set in bytes (VmRSS).
func rss(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// stopUnits kills every unit process of an instance (its VM stops).
func (c *cli) stopUnits(in *instance) {
	for _, u := range in.Units {
		if u.PID != 0 {
			killUnit(u)
			u.PID, u.Start, u.Stopped = 0, 0, true
		}
	}
}

// memoryUsed is the base of an idle guest plus the resident memory of the
// processes its units started.
func memoryUsed(in *instance) int64 {
	used := int64(baseMemory)
	for _, u := range in.Units {
		for _, p := range sessionMembers(u.PID, u.Start) {
			used += rss(p)
		}
	}
	return min(used, in.Memory)
}

// diskBase is what an idle guest uses of its disk.
func diskBase(total int64) int64 { return min(int64(1536)<<20, total/2) }

// diskUsed is the base plus the size of the files under the root.
func diskUsed(root string, total int64) int64 {
	used := diskBase(total)
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				used += fi.Size()
			}
		}
		return nil
	})
	return min(used, total)
}

func loadAvg() []any {
	data, err := os.ReadFile("/proc/loadavg")
	out := []any{0.0, 0.0, 0.0}
	if err != nil {
		return out
	}
	f := strings.Fields(string(data))
	for i := 0; i < 3 && i < len(f); i++ {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			out[i] = v
		}
	}
	return out
}

// KillAll ends every process started by the instances of the state
// directory dir and marks running instances Stopped. Tests call it in
// their cleanup so that no unit process outlives them.
func KillAll(dir string) error {
	c := &cli{dir: dir, getenv: func(string) string { return "" }}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return nil
	}
	s, err := c.open()
	if err != nil {
		return err
	}
	for _, in := range s.st.Instances {
		if in.Preparing && in.PreparerPID != os.Getpid() && alive(in.PreparerPID, in.PreparerStart) {
			// A daemon process still creating it (a launch whose client
			// gave up): it would create the instance after the test.
			_ = syscall.Kill(in.PreparerPID, syscall.SIGKILL)
		}
		c.stopUnits(in)
		if running(in.State) || in.State == stUnknown {
			in.State, in.ShutdownAt = stStopped, 0
		}
	}
	return s.commit()
}
