// Package shared is what `faas jobs` and its subcommands print alike.
package shared

import (
	"strconv"

	"github.com/faasdev/faas/pkg/store"
)

// StartKind says whether the job started a new instance.
func StartKind(j store.Job) string {
	if j.Cold {
		return "cold"
	}
	return "warm"
}

// Duration is the job's run time in milliseconds, "-" until it ends.
func Duration(j store.Job) string {
	if !j.Ended() || j.Duration == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(j.Duration.Microseconds())/1000, 'f', 1, 64) + "ms"
}
