package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
)

type result struct {
	n        int64
	errors   int64
	elapsed  time.Duration
	lat      []time.Duration // sorted; or, from wrk, perc
	perc     map[float64]time.Duration
	firstErr string
	loader   string
}

// measure is the load generator of the measured phases.
var measure = load

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0 // never run: no rate
	}
	return float64(r.n) / r.elapsed.Seconds()
}

func (r result) q(p float64) time.Duration {
	if r.perc != nil {
		return r.perc[p]
	}
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// load keeps c requests in flight for d and records each latency.
func load(url, token string, c int, d time.Duration, body []byte) result {
	l := benchutil.DriveHTTP(url, token, c, d, body, false)
	return result{n: l.N, errors: l.Errors, elapsed: l.Elapsed, lat: l.Lat, firstErr: l.FirstErr, loader: "go"}
}

var (
	wrkTotal = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkPerc  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)
	wrkErrs  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSock  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func unit(v float64, u string) time.Duration {
	switch u {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	case "m":
		return time.Duration(v * float64(time.Minute))
	}
	return time.Duration(v * float64(time.Second))
}

// wrkLoad runs wrk with c connections (one thread per CPU) for d, POSTing
// body with the token, and reads its totals and latency percentiles.
func wrkLoad(url, token string, c int, d time.Duration, body []byte) result {
	r := result{loader: "wrk"}
	dir, err := os.MkdirTemp("", "faas-wrk-")
	if err != nil {
		r.firstErr = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	script := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\n", body)
	if token != "" {
		script += fmt.Sprintf("wrk.headers[\"Authorization\"] = %q\n", "Bearer "+token)
	}
	lua := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(lua, []byte(script), 0o600); err != nil {
		r.firstErr = err.Error()
		return r
	}
	threads := 1 // one event loop keeps up, and leaves the CPUs to what is measured
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(c), "-d", strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))+"s",
		"--latency", "-s", lua, url).CombinedOutput()
	if err != nil {
		r.firstErr = fmt.Sprintf("wrk: %v: %s", err, out)
		return r
	}
	m := wrkTotal.FindSubmatch(out)
	if m == nil {
		r.firstErr = "wrk: no totals in: " + string(out)
		return r
	}
	r.n, _ = strconv.ParseInt(string(m[1]), 10, 64)
	v, _ := strconv.ParseFloat(string(m[2]), 64)
	r.elapsed = unit(v, string(m[3]))
	r.perc = map[float64]time.Duration{}
	for _, p := range wrkPerc.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		q := 0.5
		if string(p[1]) == "99" {
			q = 0.99
		}
		r.perc[q] = unit(v, string(p[3]))
	}
	if e := wrkErrs.FindSubmatch(out); e != nil {
		r.errors, _ = strconv.ParseInt(string(e[1]), 10, 64)
		r.firstErr = "non-2xx responses"
	}
	if e := wrkSock.FindSubmatch(out); e != nil {
		for _, x := range e[1:] {
			k, _ := strconv.ParseInt(string(x), 10, 64)
			r.errors += k
		}
	}
	r.n -= r.errors
	return r
}

// merge is runs taken together: their calls over their time, their
// latencies pooled (from wrk, which gives only percentiles, each
// percentile's mean over the runs).
func merge(runs []result) result {
	var m result
	var percN int
	for _, r := range runs {
		m.n, m.errors, m.elapsed = m.n+r.n, m.errors+r.errors, m.elapsed+r.elapsed
		m.lat = append(m.lat, r.lat...)
		m.loader = r.loader
		if m.firstErr == "" {
			m.firstErr = r.firstErr
		}
		if r.perc != nil {
			if m.perc == nil {
				m.perc = map[float64]time.Duration{}
			}
			for p, d := range r.perc {
				m.perc[p] += d
			}
			percN++
		}
	}
	for p := range m.perc {
		m.perc[p] /= time.Duration(percN)
	}
	sort.Slice(m.lat, func(i, j int) bool { return m.lat[i] < m.lat[j] })
	return m
}
