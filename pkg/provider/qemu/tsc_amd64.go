package qemu

import (
	"slices"
	"time"
)

func rdtsc() uint64

// tscKHz measures the host's TSC frequency: TCG's guest TSC is the host's,
// and microvm has no HPET or PM timer to calibrate it against, so a guest
// kernel sometimes hangs ("Marking TSC unstable due to could not calculate
// TSC khz") unless it is told (tsc_early_khz).
func tscKHz() int64 {
	var got []int64
	for range 3 {
		t0, c0 := time.Now(), rdtsc()
		time.Sleep(15 * time.Millisecond)
		c1, t1 := rdtsc(), time.Now()
		if ns := t1.Sub(t0).Nanoseconds(); ns > 0 && c1 > c0 {
			got = append(got, int64((c1-c0)*1e6/uint64(ns)))
		}
	}
	if len(got) == 0 {
		return 0
	}
	slices.Sort(got)
	return got[len(got)/2]
}
