package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/config"
)

// RetentionKey is how long ended jobs are kept: older ones (their records,
// payloads, results and logs) are deleted in the background by `faas serve`
// and the watcher. Bills are not made from job rows but from the daily
// roll-ups, which stay: a pruned month bills the same.
const RetentionKey = "jobs.retention"

// DefaultRetention is 30 days, as long as the shortest log retention the
// common platforms offer for a paid plan keeps, and long enough to read a
// whole month's failures before its bill.
const DefaultRetention = "30d"

func init() {
	config.Register(config.Key{Name: RetentionKey, Default: DefaultRetention, Check: checkRetention,
		Help: "how long ended jobs (records, payloads, results, logs) are kept, e.g. 30d or 72h; 0 keeps them forever; bills keep their totals"})
}

func checkRetention(v string) error {
	_, err := ParseRetention(v)
	return err
}

// ParseRetention reads a retention: Nd (days), a Go duration (72h), or 0
// for forever (returned as 0).
func ParseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 100_000 {
			return 0, fmt.Errorf("%q: use a number of days such as 30d, a duration such as 72h, or 0 for forever", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("%q: use a number of days such as 30d, a duration of an hour or more such as 72h, or 0 for forever", v)
	}
	return d, nil
}

// PruneResult is what a prune removed (or, dry, would remove).
type PruneResult struct {
	Before time.Time
	DryRun bool
	Jobs   int64
	// Bytes is what their payloads, results and logs took.
	Bytes int64
}

// pruneBatch is how many jobs one transaction deletes: short enough that
// invocations writing meanwhile wait milliseconds, not seconds.
const pruneBatch = 1000

// PruneJobs deletes every ended job queued before before, in batches of
// pruneBatch jobs, each its own transaction, pausing pause between them
// (background pruning leaves the database to invocations); dry only counts.
// Jobs still waiting or running are kept whatever their age.
func (e *Engine) PruneJobs(ctx context.Context, before time.Time, dry bool, pause time.Duration) (PruneResult, error) {
	r := PruneResult{Before: before, DryRun: dry}
	if dry {
		p, err := e.store.PruneJobs(ctx, before, 0, true)
		r.Jobs, r.Bytes = p.Jobs, p.Bytes
		return r, err
	}
	for ctx.Err() == nil {
		p, err := e.store.PruneJobs(ctx, before, pruneBatch, false)
		r.Jobs += p.Jobs
		r.Bytes += p.Bytes
		if err != nil || p.Jobs < pruneBatch {
			return r, err
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
	return r, ctx.Err()
}

// Retention is the configured retention (0: forever).
func (e *Engine) Retention(ctx context.Context) (time.Duration, error) {
	stored, err := e.store.Config(ctx)
	if err != nil {
		return 0, err
	}
	return ParseRetention(config.Value(stored, RetentionKey))
}

// PruneExpired deletes the ended jobs older than the retention, in the
// background's gentle batches; it does nothing when jobs are kept forever.
func (e *Engine) PruneExpired(ctx context.Context) (PruneResult, error) {
	keep, err := e.Retention(ctx)
	if err != nil || keep == 0 {
		return PruneResult{}, err
	}
	return e.PruneJobs(ctx, e.Now().Add(-keep), false, 20*time.Millisecond)
}

// RetentionEvery is how often `faas serve` and the watcher prune.
const RetentionEvery = 10 * time.Minute

// RunRetention prunes expired jobs now and every RetentionEvery until ctx
// ends, reporting what it pruned (or why it could not) to logf.
func (e *Engine) RunRetention(ctx context.Context, logf func(format string, args ...any)) {
	for {
		r, err := e.PruneExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logf("retention: %v", err)
		case r.Jobs > 0:
			logf("retention: pruned %d jobs queued before %s (%d bytes of payloads, results and logs)", r.Jobs, r.Before.Format(time.RFC3339), r.Bytes)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(RetentionEvery):
		}
	}
}
