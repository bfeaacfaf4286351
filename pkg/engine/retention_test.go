package engine

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "72h": 72 * time.Hour, "0": 0, "1h": time.Hour} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "0d", "30m", "forever", "1.5d"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("ParseRetention(%q) took it", bad)
		}
	}
}

// The background prune deletes October's 5,000 jobs once they are older
// than the retention, and October's bill is the same before and after.
func TestPruneExpiredKeepsTheBill(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.Local)
	if err := e.store.(*sqlite.Store).InsertSynthetic(ctx, store.SyntheticJobs{N: 5000, Function: "fn", From: oct, Spacing: time.Minute,
		DurationUS: 120_000, BilledMS: 120, MemoryMB: 256, RequestPico: 200_000, ComputePico: 500_000, FailEvery: 7}); err != nil {
		t.Fatal(err)
	}
	before, err := e.Bill(ctx, BillRequest{Month: "2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	if before.Totals.Requests != 5000 {
		t.Fatalf("October bills %d requests, want 5000", before.Totals.Requests)
	}
	e.Now = func() time.Time { return oct.AddDate(0, 0, 20) } // 20 days on: kept
	if r, err := e.PruneExpired(ctx); err != nil || r.Jobs != 0 {
		t.Fatalf("within the retention PruneExpired = %+v, %v", r, err)
	}
	e.Now = func() time.Time { return oct.AddDate(0, 0, 40) }
	r, err := e.PruneExpired(ctx)
	if err != nil || r.Jobs != 5000 {
		t.Fatalf("PruneExpired = %+v, %v; want the 5000 jobs older than 30 days", r, err)
	}
	if jobs, err := e.Jobs(ctx, store.JobFilter{}); err != nil || len(jobs) != 0 {
		t.Fatalf("after the prune: %d jobs, %v", len(jobs), err)
	}
	after, err := e.Bill(ctx, BillRequest{Month: "2026-10"})
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("October's bill changed with the prune:\n%+v\n%+v (%v)", after, before, err)
	}
	if err := e.ConfigSet(ctx, RetentionKey, "0"); err != nil {
		t.Fatal(err)
	}
	if keep, err := e.Retention(ctx); err != nil || keep != 0 {
		t.Errorf("retention 0 = %v, %v; want forever", keep, err)
	}
}
