package billing

import (
	"math"
	"testing"
	"time"
)

// AWS's worked example: 3,000,000 invocations of 1 s at 512 MB, free tier
// on, $0.20 per 1M requests and $0.00001667 per GB-s → compute $18.34,
// requests $0.40, total $18.74.
func TestAWSWorkedExample(t *testing.T) {
	s := Default()
	s.FreeTier = true
	var err error
	if s.GBSecond, err = ParseDollars("0.00001667"); err != nil {
		t.Fatal(err)
	}
	one := s.Charge(Usage{Duration: time.Second, MemoryMB: 512})
	if one.BilledMS != 1000 {
		t.Fatalf("billed %d ms", one.BilledMS)
	}
	const n = 3_000_000
	tot := Totals{Requests: n, MBMS: n * 512 * 1000, Request: n * one.Request, Compute: n * one.Compute}
	cr, cc := s.Credit(tot)
	compute, request := tot.Compute-cc, tot.Request-cr
	if got := compute.Cents(); got != "$18.34" {
		t.Errorf("compute %s (%s), want $18.34", got, compute)
	}
	if got := request.Cents(); got != "$0.40" {
		t.Errorf("requests %s, want $0.40", got)
	}
	if got := (compute + request).Cents(); got != "$18.74" {
		t.Errorf("total %s, want $18.74", got)
	}
	if compute != 18_337*Dollar/1000 {
		t.Errorf("compute is %s exactly, want 18.337", compute)
	}
}

func TestChargeIsExact(t *testing.T) {
	s := Default()
	// 128 MB for 1 ms: 0.125 GB × 0.001 s × $0.0000166667 = $0.0000000020833375.
	c := s.Charge(Usage{Duration: 400 * time.Microsecond, MemoryMB: 128})
	if c.BilledMS != 1 || c.Compute != 2083 || c.Request != 200_000 {
		t.Fatalf("%+v", c)
	}
	// Init time is billed on a cold start when the sheet says so.
	cold := Usage{Duration: 10 * time.Millisecond, InitMS: 90, Cold: true, MemoryMB: 1024}
	if b := s.BilledMS(cold); b != 100 {
		t.Fatalf("cold billed %d", b)
	}
	s.BillInit = false
	if b := s.BilledMS(cold); b != 10 {
		t.Fatalf("cold billed without init %d", b)
	}
	s.GranularityMS = 100
	if b := s.BilledMS(Usage{Duration: 101 * time.Millisecond}); b != 200 {
		t.Fatalf("granularity 100: %d", b)
	}
	s.VCPUSecond, s.DiskGBMonth = Dollar/1000, Dollar
	c = s.Charge(Usage{Duration: time.Second, MemoryMB: 1024, CPUs: 2, DiskMB: 1024})
	// 1 GB-s + 2 vCPU-s × $0.001 + 1 GB for 1 s of a 30-day month × $1.
	want := Pico(16_666_700) + 2*Dollar/1000 + Pico((int64(Dollar)+1_296_000)/2_592_000)
	if c.Compute != want {
		t.Fatalf("compute %d, want %d", c.Compute, want)
	}
}

func TestParseAndPrint(t *testing.T) {
	good := map[string]Pico{"0.20": Dollar / 5, "5": 5 * Dollar, "5.00": 5 * Dollar, "$1.5": 3 * Dollar / 2,
		".5": Dollar / 2, "0.000000000001": 1, "0.0000166667": 16_666_700}
	for in, want := range good {
		if got, err := ParseDollars(in); err != nil || got != want {
			t.Errorf("ParseDollars(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "-1", "1e3", "abc", "0.0000000000001", "1.2.3", "99999999"} {
		if _, err := ParseDollars(in); err == nil {
			t.Errorf("ParseDollars(%q) succeeded", in)
		}
	}
	prints := map[Pico]string{0: "$0.00", 4_999_999_999: "$0.00", 5_000_000_000: "$0.01", 18_337 * Dollar / 1000: "$18.34", -Dollar / 2: "-$0.50"}
	for p, want := range prints {
		if got := p.Cents(); got != want {
			t.Errorf("Pico(%d).Cents() = %q, want %q", p, got, want)
		}
	}
	if s := Pico(16_666_700).String(); s != "0.0000166667" {
		t.Errorf("String = %q", s)
	}
	if s := (5 * Dollar).String(); s != "5.00" {
		t.Errorf("String = %q", s)
	}
}

func TestCreditNeverExceedsCharges(t *testing.T) {
	s := Default()
	s.FreeTier = true
	tot := Totals{Requests: 10, MBMS: 1024 * 1000, Request: 10 * s.Request, Compute: s.GBSecond}
	r, c := s.Credit(tot)
	if r != tot.Request || c != tot.Compute {
		t.Fatalf("credit %d %d for %+v", r, c, tot)
	}
	s.FreeTier = false
	if r, c := s.Credit(tot); r != 0 || c != 0 {
		t.Fatal("credit with the free tier off")
	}
}

func TestHuman(t *testing.T) {
	for p, want := range map[Pico]string{0: "$0.00", 1_000_000: "$0.000001", Dollar / 100: "$0.01", 5 * Dollar: "$5.00"} {
		if got := p.Human(); got != want {
			t.Errorf("Pico(%d).Human() = %q, want %q", p, got, want)
		}
	}
}

// Prices and sizes far beyond any real bill saturate; they never wrap to a
// negative cost.
func TestChargeSaturates(t *testing.T) {
	s := Default()
	s.GBSecond, s.VCPUSecond, s.DiskGBMonth = 100*Dollar, 100*Dollar, 100*Dollar
	c := s.Charge(Usage{Duration: 15 * time.Minute, MemoryMB: 64 << 10, CPUs: 1 << 20, DiskMB: 1 << 30})
	if c.Compute <= 0 || c.Compute != Pico(math.MaxInt64) {
		t.Fatalf("compute %d, want the saturated %d", c.Compute, int64(math.MaxInt64))
	}
}
