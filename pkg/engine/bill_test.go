package engine

import (
	"context"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/store"
	"github.com/faasdev/faas/pkg/store/sqlite"
)

// AWS's worked example through the whole bill: 3,000,000 invocations of
// 1 s at 512 MB in one month, free tier on, $0.20 per 1M requests and
// $0.00001667 per GB-s → compute $18.34, requests $0.40, total $18.74.
func TestBillAWSWorkedExample(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for k, v := range map[string]string{"price.gb_second": "0.00001667", "free_tier.enabled": "true"} {
		if err := e.ConfigSet(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	set, err := e.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	one := set.Sheet.Charge(billing.Usage{Duration: time.Second, MemoryMB: 512})
	const n = 3_000_000
	// The store is filled directly: 100,000 invocations on each of 30 days.
	for d := 1; d <= 30; d++ {
		day := time.Date(2026, 11, d, 12, 0, 0, 0, time.Local)
		row := store.BillRow{Function: "resize", Invocations: n / 30, DurationUS: n / 30 * 1_000_000, BilledMS: n / 30 * 1000,
			MBMS: n / 30 * 512 * 1000, RequestPico: n / 30 * int64(one.Request), ComputePico: n / 30 * int64(one.Compute)}
		if err := e.store.(*sqlite.Store).AddUsage(ctx, day, "", row); err != nil {
			t.Fatal(err)
		}
	}
	b, err := e.Bill(ctx, BillRequest{Month: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	compute := b.Totals.Compute - b.ComputeCredit
	request := b.Totals.Request - b.RequestCredit
	if compute.Cents() != "$18.34" || request.Cents() != "$0.40" || b.Due.Cents() != "$18.74" {
		t.Fatalf("compute %s, requests %s, due %s; want $18.34, $0.40, $18.74", compute.Cents(), request.Cents(), b.Due.Cents())
	}
	if b.Totals.Requests != n || b.Totals.GBSeconds() != 1_500_000 || len(b.Daily) != 30 {
		t.Fatalf("totals %+v, %d days", b.Totals, len(b.Daily))
	}
}

func TestBillMonths(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.Local)
	from, to, err := ParseMonth("", now)
	if err != nil || from.Format("2006-01-02") != "2026-11-01" || to.Format("2006-01-02") != "2026-12-01" {
		t.Fatalf("current month: %v %v %v", from, to, err)
	}
	if from, to, _ := ParseMonth("2026-12", now); from.Year() != 2026 || to.Year() != 2027 || to.Month() != time.January {
		t.Fatalf("december: %v %v", from, to)
	}
	for _, bad := range []string{"2026-13", "26-11", "nov", "2026-00", "2026-1", "2026/11", " 2026-11", "1969-12"} {
		if _, _, err := ParseMonth(bad, now); fault.KindOf(err) != fault.Usage {
			t.Errorf("ParseMonth(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestBudgetRefusesOnceSpent(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	deploy(t, e, "fn", "fn.py", "print(1)")
	fp := &fakeProvider{out: completedOutcome()}
	e.SetProvider(fp)
	if err := e.ConfigSet(ctx, "budget.monthly", "0.0000003"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(ctx, InvokeRequest{Name: "fn"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(ctx, InvokeRequest{Name: "fn"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Invoke(ctx, InvokeRequest{Name: "fn"})
	if fault.KindOf(err) != fault.Platform || err == nil {
		t.Fatalf("third invoke past the budget: %v", err)
	}
	if n := jobCount(t, e); n != 2 {
		t.Fatalf("%d jobs recorded, want 2", n)
	}
}

func completedOutcome() faastype.Outcome {
	start := time.Now()
	zero := 0
	return faastype.Outcome{Status: faastype.Completed, ExitCode: &zero, StartedAt: start, EndedAt: start.Add(time.Millisecond)}
}

// A price set through another home's faas on the same records (a server on
// another host of a shared database) is in force here within SettingsTTL,
// though this home's stamp file never changes.
func TestSettingsSetElsewhereWithinTTL(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	here, there := New(t.TempDir(), st), New(t.TempDir(), st)
	before, err := here.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := there.ConfigSet(ctx, "price.request", "0.4"); err != nil {
		t.Fatal(err)
	}
	set := time.Now()
	for {
		s, err := here.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Sheet.Request != before.Sheet.Request {
			break
		}
		if time.Since(set) > SettingsTTL+5*time.Second {
			t.Fatalf("the price set elsewhere is not in force %v later", time.Since(set))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(set); took > SettingsTTL+2*time.Second {
		t.Errorf("in force %v after it was set; want within %v", took, SettingsTTL)
	}
}
