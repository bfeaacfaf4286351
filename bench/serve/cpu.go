package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is /proc's unit of CPU time (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procInfo is one process as /proc shows it.
type procInfo struct {
	ppid int
	cpu  time.Duration // user + system
	args []string
	env  string
}

// processes reads every process's parent and CPU time.
func processes() map[int]procInfo {
	out := map[int]procInfo{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = procInfo{ppid: ppid, cpu: time.Duration(ut+st) * clockTick}
	}
	return out
}

// cpuSet is a set of processes whose CPU time is counted together: the
// roots a function picks, and all their descendants.
type cpuSet func(pid int) bool

// usage is the CPU time of every process of the set now, by pid.
func (s cpuSet) usage() map[int]time.Duration {
	all := processes()
	in := map[int]bool{}
	var member func(pid int, depth int) bool
	member = func(pid, depth int) bool {
		if v, ok := in[pid]; ok {
			return v
		}
		v := false
		if p, ok := all[pid]; ok && depth < 64 {
			v = s(pid) || p.ppid > 1 && member(p.ppid, depth+1)
		}
		in[pid] = v
		return v
	}
	out := map[int]time.Duration{}
	for pid, p := range all {
		if member(pid, 0) {
			out[pid] = p.cpu
		}
	}
	return out
}

// spent is the CPU time the set's processes spent between two usages
// (a process that ended in between is not counted; none do in a phase).
func spent(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

// faasProcesses is a faas serve (pid) and the agents of its home, with
// their workers.
func faasProcesses(serve int, home string) cpuSet {
	return func(pid int) bool {
		if pid == serve {
			return true
		}
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			return false
		}
		args := strings.Split(string(b), "\x00")
		return len(args) > 1 && args[1] == "agent" && strings.Contains(string(b), "\x00--home\x00"+home+"\x00")
	}
}

// oneProcess is a process and its descendants.
func oneProcess(root int) cpuSet { return func(pid int) bool { return pid == root } }
