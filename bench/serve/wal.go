package main

import (
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // to read the database's size

	"github.com/faasdev/faas/pkg/faashome"
)

// dbSize is the database's size as its readers see it (what the file
// holds once the WAL is checkpointed), and its jobs.
type dbSize struct {
	pages, free, pageSize, jobs int64
}

func (d dbSize) bytes() int64 { return d.pages * d.pageSize }

func readDBSize(home string) (dbSize, error) {
	db, err := sql.Open("sqlite3", "file:"+faashome.DB(home)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return dbSize{}, err
	}
	defer db.Close()
	var d dbSize
	for _, q := range []struct {
		sql string
		to  *int64
	}{{"PRAGMA page_count", &d.pages}, {"PRAGMA freelist_count", &d.free}, {"PRAGMA page_size", &d.pageSize}, {"SELECT COUNT(*) FROM jobs", &d.jobs}} {
		if err := db.QueryRow(q.sql).Scan(q.to); err != nil {
			return dbSize{}, fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	return d, nil
}

// walPart is (w): the WAL's peak size through a run at 64 in flight, and
// what each job adds to the database (goal 2 of the performance issue).
func walPart(dir, faas, fn string, body []byte, dur time.Duration) error {
	const conc = 64
	s, url, err := serveDefault(dir, faas, "home-w", fn)
	if err != nil {
		return err
	}
	defer s.stop()
	if w := load(url, s.token, conc, time.Second, body); w.n == 0 {
		return fmt.Errorf("warm-up: no invocation succeeded: %s", w.firstErr)
	}
	before, err := readDBSize(s.home)
	if err != nil {
		return err
	}
	wal := faashome.DB(s.home) + "-wal"
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				sampled <- n
				return
			case <-t.C:
				if fi, err := os.Stat(wal); err == nil && fi.Size() > peak.Load() {
					peak.Store(fi.Size())
				}
				n++
			}
		}
	}()
	fmt.Fprintf(os.Stderr, "(w) faas serve, %d in flight for %s, the WAL's size sampled every 10 ms…\n", conc, dur)
	r := measure(url, s.token, conc, dur, body)
	close(stop)
	samples := <-sampled
	after, err := readDBSize(s.home)
	if err != nil {
		return err
	}
	jobs := after.jobs - before.jobs
	fmt.Printf("\n(w) the WAL and the database through %s at %d in flight (default scaling): %d calls (%.0f/s), %d errors\n\n",
		dur, conc, r.n, r.rps(), r.errors)
	fmt.Printf("| WAL peak MiB (%d samples) | jobs recorded | database before MiB | after MiB | growth per job, bytes | free pages after |\n", samples)
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	// A database that did not grow (free pages reused) is a measured 0.
	ok := jobs > 0
	perJob, per := 0.0, "not measured"
	if ok {
		perJob = float64(after.bytes()-before.bytes()) / float64(jobs)
		per = fmt.Sprintf("%.0f", perJob)
	}
	fmt.Printf("| %.1f | %d | %.1f | %.1f | %s | %d |\n\n", float64(peak.Load())/(1<<20), jobs,
		float64(before.bytes())/(1<<20), float64(after.bytes())/(1<<20), per, after.free)
	fmt.Printf("- WAL under 64 MiB through %s at %d in flight: %.1f MiB: %s\n", dur, conc, float64(peak.Load())/(1<<20), verdict(samples > 0, peak.Load() < 64<<20))
	fmt.Printf("- the database grows by at most 1 KB per job: %s bytes: %s\n", per, verdict(ok, perJob <= 1024))
	return nil
}
