package cmdutil

import (
	"math"
	"strconv"
	"time"
)

// Ago prints a time relative to now for terminals.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	}
	return plural(int(d.Hours()/24), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Timestamp prints a time: relative on a terminal, RFC 3339 when piped.
func Timestamp(tty bool, now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if tty {
		return Ago(now, t)
	}
	return t.UTC().Format(time.RFC3339)
}

// Bytes prints a byte count in binary units, with one decimal; the unit is
// chosen after rounding, so 1048575 is 1.0MiB, not 1024.0KiB.
func Bytes(n int64) string {
	if n <= 0 {
		return "-"
	}
	if n < 1<<10 {
		return strconv.FormatInt(n, 10) + "B"
	}
	v := float64(n) / (1 << 10)
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	u := 0
	for u < len(units)-1 && math.Round(v*10)/10 >= 1024 {
		v /= 1024
		u++
	}
	return oneDecimal(v) + units[u]
}

func oneDecimal(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
