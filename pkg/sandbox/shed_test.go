package sandbox

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// fileRSS is the process' resident file-backed memory (kB).
func fileRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Skip("no smaps_rollup here")
	}
	var rss, anon int64
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch k {
		case "Rss":
			rss = n
		case "Anonymous":
			anon = n
		}
	}
	return rss - anon
}

// TestShedDropsCleanPages checks that Shed gives back the test binary's
// resident text and read-only data, and that the process goes on running
// (what it needs faults back in).
func TestShedDropsCleanPages(t *testing.T) {
	before := fileRSS(t)
	dropped := Shed()
	after := fileRSS(t)
	t.Logf("file-backed RSS %d kB → %d kB (mappings of %d kB dropped)", before, after, dropped>>10)
	if dropped == 0 || after >= before {
		t.Fatalf("file-backed RSS %d kB → %d kB: nothing shed", before, after)
	}
	// Still a working program: allocation, formatting, a goroutine.
	done := make(chan string)
	go func() { done <- strconv.Itoa(len(strings.Repeat("x", 1000))) }()
	if got := <-done; got != "1000" {
		t.Fatal(got)
	}
}
