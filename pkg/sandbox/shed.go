package sandbox

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// Shed gives back the memory a long-lived faas process holds only because
// it started up: the heap it no longer uses, and its page-table mappings
// of the faas executable's pages that are still the file's own (text,
// read-only data). Those stay in the page cache, shared with every other
// faas process; what the process runs again faults back in from there, as
// after the kernel reclaimed them under memory pressure. A mapping with a
// page of its own (written, copied on write: relocations, .data) is never
// touched: dropping it would lose what was written. Only the executable's
// own mappings are considered: the kernel mapped them at exec and nothing
// changes their protection later, whereas a library being loaded (by the C
// library's resolver, say) is made writable for its relocations while this
// runs.
//
// The jail's init sheds once its function runs (it does little more than
// wait from then on); an idle agent sheds too. It returns the bytes of
// mappings dropped.
func Shed() int64 {
	debug.FreeOSMemory()
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	exe := strconv.FormatUint(st.Ino, 10)
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	type span struct{ start, end uintptr }
	var spans []span
	var cur span
	clean := false
	keep := func() {
		if clean && cur.end > cur.start {
			spans = append(spans, cur)
		}
		clean = false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 5 && strings.Contains(f[0], "-") && len(f[1]) == 4 {
			// A mapping's header: start-end perms offset dev inode [path].
			keep()
			lo, hi, _ := strings.Cut(f[0], "-")
			s, err1 := strconv.ParseUint(lo, 16, 64)
			e, err2 := strconv.ParseUint(hi, 16, 64)
			// Private, not writable, of the executable.
			clean = err1 == nil && err2 == nil && f[1][1] != 'w' && f[1][3] == 'p' && f[4] == exe && dev(f[3]) == st.Dev
			cur = span{uintptr(s), uintptr(e)}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !clean {
			continue
		}
		switch k {
		// Dirty counts pages of the page cache not yet written back (a
		// freshly built binary): those are the file's still. Anonymous
		// pages are the process' own.
		case "Anonymous", "Swap":
			if n := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")); n != "0" {
				clean = false
			}
		}
	}
	keep()
	// All at the end, in a tight loop: code run between two drops would
	// fault back in what the first dropped.
	var dropped int64
	for _, sp := range spans {
		if _, _, e := syscall.RawSyscall(syscall.SYS_MADVISE, sp.start, sp.end-sp.start, syscall.MADV_DONTNEED); e == 0 {
			dropped += int64(sp.end - sp.start)
		}
	}
	return dropped
}

// dev reads a device number as /proc/PID/maps prints it (major:minor in
// hexadecimal) in the kernel's encoding of st_dev.
func dev(s string) uint64 {
	ma, mi, _ := strings.Cut(s, ":")
	major, err1 := strconv.ParseUint(ma, 16, 32)
	minor, err2 := strconv.ParseUint(mi, 16, 32)
	if err1 != nil || err2 != nil {
		return ^uint64(0)
	}
	return major<<8&0xfff00 | minor&0xff | minor<<12&0xfff00000 | major<<32&0xfffff00000000000
}
