package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/faasdev/faas/pkg/proc"
)

// procMem is one process of a warm function: what it is and its memory.
type procMem struct {
	pid      int
	what     string
	rss, pss int64 // bytes
}

// functionMemory lists the agent and every process below it (a jail's
// init, its worker), with each one's RSS and PSS from smaps_rollup: RSS
// counts every page a process maps, PSS divides shared pages among those
// that share them (the faas binary's text among the agent and the inits).
func functionMemory(agent int) []procMem {
	var out []procMem
	for _, pid := range proc.Tree(agent) {
		m := procMem{pid: pid, what: cmdline(pid)}
		m.rss, m.pss = rollup(pid)
		out = append(out, m)
	}
	return out
}

// cmdline names a process by its first arguments, short.
func cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) > 3 {
		args = args[:3]
	}
	s := strings.Join(args, " ")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return filepath.Base(s)
}

// rollup reads a process' Rss and Pss (bytes).
func rollup(pid int) (rss, pss int64) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch k {
		case "Rss":
			rss = kb << 10
		case "Pss":
			pss = kb << 10
		}
	}
	return rss, pss
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
