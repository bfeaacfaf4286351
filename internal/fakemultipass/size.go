package fakemultipass

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Minimums and defaults of multipass 1.16.
const (
	minMemory     = 128 << 20
	minDisk       = 512 << 20
	defaultMemory = 1 << 30
	defaultDisk   = 5 << 30
)

// sizeRe is multipass's memory-size syntax. RE2 has no look-ahead, so a
// fraction is only accepted together with its K/M/G unit.
var sizeRe = regexp.MustCompile(`(?i)^\s*(\d+)(?:\.(\d+)([KMG])(?:i?B)?|([KMG])(?:i?B)?|(B))?\s*$`)

type sizeError struct{ value string }

func (e sizeError) Error() string {
	return e.value + " is not a valid memory size - need a non-negative integer (in base 10) or a decimal followed by K, M, or G (e.g. 1234B, 42MiB, 0.5G)"
}

// parseSize reads a size like multipass's MemorySize does: K = 1024.
func parseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, sizeError{s}
	}
	unit := m[3] + m[4]
	var mult int64 = 1
	switch strings.ToUpper(unit) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	whole, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || whole > math.MaxInt64/mult {
		return 0, sizeError{s}
	}
	n := whole * mult
	if frac := m[2]; frac != "" {
		if len(frac) > 12 {
			frac = frac[:12]
		}
		f, _ := strconv.ParseInt(frac, 10, 64)
		n += f * mult / int64(math.Pow10(len(frac)))
	}
	return n, nil
}

// humanSize prints bytes as multipass's MemorySize::human_readable does.
func humanSize(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%dB", b)
}
