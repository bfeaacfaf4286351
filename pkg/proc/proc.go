// Package proc reads what faas needs to know about processes from /proc:
// whether one still runs (a pid is only trusted with its start time, since
// pids are reused), and what it uses.
package proc

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// statFields are the fields of /proc/PID/stat after the command name, which
// may itself hold spaces and parentheses.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// Start is a process' start time in clock ticks since boot, 0 if it does not
// exist or has exited (a zombie).
func Start(pid int) int64 {
	f := statFields(pid)
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0
	}
	n, _ := strconv.ParseInt(f[19], 10, 64)
	return n
}

// Alive reports whether pid runs and, when start is known, is the same
// process that had that start time.
func Alive(pid int, start int64) bool {
	if pid <= 0 {
		return false
	}
	st := Start(pid)
	return st != 0 && (start == 0 || st == start)
}

// Usage is a process' resident memory in bytes and CPU time in seconds.
func Usage(pid int) (rss int64, cpu float64) {
	f := statFields(pid)
	if len(f) < 22 {
		return 0, 0
	}
	// utime and stime are stat fields 14 and 15, rss (pages) field 24.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	const userHZ = 100
	return pages * int64(os.Getpagesize()), (ut + st) / userHZ
}

var (
	selfOnce  sync.Once
	selfStart int64
)

// SelfStart is this process's start time, which with its pid names it as
// a job's runner or a pid file's owner.
func SelfStart() int64 {
	selfOnce.Do(func() { selfStart = Start(os.Getpid()) })
	return selfStart
}

// TreeUsage is Usage summed over a process and every live descendant: a
// jailed function runs as a grandchild of the process its agent started.
func TreeUsage(pid int) (rss int64, cpu float64) {
	for _, p := range Tree(pid) {
		r, c := Usage(p)
		rss, cpu = rss+r, cpu+c
	}
	return rss, cpu
}

// Tree is pid and every live descendant of it, parents before children,
// but for the children of pid that lead a session of their own: detached
// processes (an agent's spares), which are not its to count.
func Tree(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(p); len(f) > 3 {
			pp, err := strconv.Atoi(f[1])
			// A child of the root that leads a session of its own was
			// started detached (an agent's spare): it is not the root's.
			if err == nil && !(pp == pid && f[3] == e.Name()) {
				children[pp] = append(children[pp], p)
			}
		}
	}
	var out []int
	seen := map[int]bool{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out
}

var hostOnce struct {
	sync.Once
	id string
}

// HostIDEnv overrides HostID: for machines whose machine-id is not their
// own (containers of one image) and for tests of several hosts on one.
const HostIDEnv = "FAAS_HOST_ID"

// HostID names this host among those that share a database: $FAAS_HOST_ID,
// else its /etc/machine-id, else its hostname. A process id means
// something only on the host it was recorded on.
func HostID() string {
	hostOnce.Do(func() {
		if id := strings.TrimSpace(os.Getenv(HostIDEnv)); id != "" {
			hostOnce.id = id
			return
		}
		if b, err := os.ReadFile("/etc/machine-id"); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			hostOnce.id = strings.TrimSpace(string(b))
			return
		}
		hostOnce.id, _ = os.Hostname()
	})
	return hostOnce.id
}
