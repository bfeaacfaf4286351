package engine

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// LogsRequest selects stored log lines: one job's, or a function's recent
// jobs' (since a time, the last Tail lines).
type LogsRequest struct {
	Function string
	JobID    string
	Since    time.Time
	Tail     int
}

// recentJobs bounds how many jobs a plain `faas logs` reads.
const recentJobs = 100

// jobLines splits a job's stored log into lines, each stamped with the
// job's start (lines are stored per job, not per line).
func jobLines(j store.Job) []faastype.LogLine {
	if len(j.Logs) == 0 {
		return nil
	}
	text := strings.TrimSuffix(string(j.Logs), "\n")
	var out []faastype.LogLine
	for _, l := range strings.Split(text, "\n") {
		out = append(out, faastype.LogLine{Time: j.StartedAt, JobID: j.ID, Instance: j.Instance, Function: j.Function, Line: l})
	}
	return out
}

// Logs returns stored log lines, oldest first.
func (e *Engine) Logs(ctx context.Context, r LogsRequest) ([]faastype.LogLine, error) {
	if r.Tail < 0 {
		return nil, fault.Usagef("--tail %d: use 0 (all) or more", r.Tail)
	}
	if r.JobID != "" {
		j, err := e.Job(ctx, r.JobID)
		if err != nil {
			return nil, err
		}
		if r.Function != "" && j.Function != r.Function {
			return nil, fault.NotFoundf("job %s is not a job of %s", r.JobID, r.Function)
		}
		return tail(jobLines(j), r.Tail), nil
	}
	if err := function.ValidateName(r.Function); err != nil {
		return nil, err
	}
	_, ferr := e.function(ctx, r.Function)
	if ferr != nil && (e.Scoped || fault.KindOf(ferr) != fault.NotFound) {
		return nil, ferr
	}
	jobs, err := e.store.RecentLogs(ctx, r.Function, r.Since, recentJobs)
	if err != nil {
		return nil, err
	}
	if ferr != nil && len(jobs) == 0 {
		// Neither deployed nor ever run: a typo, not an empty log. (A
		// removed function's jobs, and their logs, stay.)
		return nil, ferr
	}
	var out []faastype.LogLine
	for _, j := range jobs {
		out = append(out, jobLines(j)...)
	}
	return tail(out, r.Tail), nil
}

func tail(lines []faastype.LogLine, n int) []faastype.LogLine {
	if n > 0 && len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// FollowLogs calls fn, one at a time, for every line a function's jobs
// print from since on, as they print it, following instances as they come
// and go, until ctx ends.
func (e *Engine) FollowLogs(ctx context.Context, name string, since time.Time, fn func(faastype.LogLine)) error {
	if err := function.ValidateName(name); err != nil {
		return err
	}
	if e.Scoped {
		if _, err := e.function(ctx, name); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	emit := func(l faastype.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		fn(l)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	following := map[string]bool{}
	lastSeen := map[string]time.Time{} // per instance, so a reconnect never repeats lines
	var fmu sync.Mutex
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		insts, err := e.store.ListInstances(ctx, name)
		if err != nil && ctx.Err() == nil {
			return err
		}
		for _, in := range insts {
			p, err := e.ProviderFor(ctx, in.Provider)
			if err != nil {
				continue
			}
			streamer, ok := p.(provider.LogStreamer)
			if !ok {
				continue
			}
			if in.State == store.InstanceReady && in.PID > 0 && !p.Alive(in.Instance) {
				continue // gone; the next invoke forgets it
			}
			fmu.Lock()
			if following[in.ID] {
				fmu.Unlock()
				continue
			}
			following[in.ID] = true
			from := since
			if t, ok := lastSeen[in.ID]; ok {
				from = t
			}
			fmu.Unlock()
			wg.Add(1)
			go func(inst faastype.Instance) {
				defer wg.Done()
				defer func() { fmu.Lock(); delete(following, inst.ID); fmu.Unlock() }()
				// An instance still starting may not listen yet; the agent
				// replays what it kept since `from` once we are in.
				for attempt := 0; attempt < 50 && ctx.Err() == nil; attempt++ {
					err := streamer.FollowLogs(ctx, inst, from, func(l faastype.LogLine) {
						from = l.Time.Add(time.Nanosecond)
						fmu.Lock()
						lastSeen[inst.ID] = from
						fmu.Unlock()
						emit(l)
					})
					if err == nil || ctx.Err() != nil {
						return
					}
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			}(in.Instance)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// InstanceLogLine is one line of an instance's own log.
type InstanceLogLine struct {
	Instance string `json:"instance"`
	Line     string `json:"line"`
}

// InstanceLogs returns the lines of a function's instance logs: start-up,
// crashes and stops, instance by instance.
func (e *Engine) InstanceLogs(ctx context.Context, name string, tailN int) ([]InstanceLogLine, error) {
	if err := function.ValidateName(name); err != nil {
		return nil, err
	}
	prov := provider.Default
	if fn, err := e.store.GetFunction(ctx, name); err == nil {
		prov = fn.Provider
	}
	p, err := e.ProviderFor(ctx, prov)
	if err != nil {
		return nil, err
	}
	il, ok := p.(provider.InstanceLogger)
	if !ok {
		return nil, fault.Platformf("the %s provider keeps no instance logs", p.Name())
	}
	files, err := il.InstanceLogs(name)
	if err != nil {
		return nil, fault.Platformf("instance logs: %w", err)
	}
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []InstanceLogLine
	for _, id := range ids {
		b, err := os.ReadFile(files[id])
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out = append(out, InstanceLogLine{Instance: id, Line: sc.Text()})
		}
	}
	if tailN > 0 && len(out) > tailN {
		out = out[len(out)-tailN:]
	}
	return out, nil
}
