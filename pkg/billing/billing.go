// Package billing prices invocations, pay-as-you-use, the way AWS Lambda
// does: a price per request plus a price per GB-second of configured memory
// times billed duration, with optional vCPU-second and disk prices and a
// monthly free tier. Money is an integer count of pico-dollars, so per-job
// rounding can never drift into cents; the only rounding to cents is when
// an amount is printed.
package billing

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Pico is an amount of money in pico-dollars (10⁻¹² USD).
type Pico int64

// Dollar is one dollar in pico-dollars.
const Dollar Pico = 1_000_000_000_000

// ParseDollars reads a non-negative decimal amount of dollars, such as
// "0.0000166667" or "5.00", exactly; more than 12 decimals is an error.
func ParseDollars(s string) (Pico, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "$")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" && frac == "" || strings.ContainsAny(whole+frac, "+-eE ") {
		return 0, fmt.Errorf("invalid amount %q: use dollars such as 5.00 or 0.0000166667", s)
	}
	if len(frac) > 12 {
		return 0, fmt.Errorf("invalid amount %q: at most 12 decimals (pico-dollars)", s)
	}
	var w, f uint64
	var err error
	if whole != "" {
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil || w > 9_000_000 {
			return 0, fmt.Errorf("invalid amount %q: use dollars such as 5.00 (at most 9,000,000)", s)
		}
	}
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 12-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("invalid amount %q: use dollars such as 5.00", s)
		}
	}
	return Pico(w)*Dollar + Pico(f), nil
}

// String prints the exact amount in dollars, without trailing zeros beyond
// cents: "0.0000166667", "18.74", "5.00".
func (p Pico) String() string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	frac := strings.TrimRight(fmt.Sprintf("%012d", int64(p%Dollar)), "0")
	if len(frac) < 2 {
		frac += strings.Repeat("0", 2-len(frac))
	}
	return sign + strconv.FormatInt(int64(p/Dollar), 10) + "." + frac
}

// Cents rounds to cents, half up (away from zero), and prints "$18.74".
// It is the only rounding money gets, and only for display.
func (p Pico) Cents() string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	const cent = Dollar / 100
	c := (p + cent/2) / cent
	return fmt.Sprintf("%s$%d.%02d", sign, c/100, c%100)
}

// Human prints cents, or the exact amount when it is under a cent and
// cents would show $0.00.
func (p Pico) Human() string {
	if p != 0 && p < Dollar/200 && p > -Dollar/200 {
		return "$" + p.String()
	}
	return p.Cents()
}

// Sheet is a price sheet.
type Sheet struct {
	// Request is the price of one request.
	Request Pico
	// GBSecond is the price of one GB-second of configured memory.
	GBSecond Pico
	// VCPUSecond and DiskGBMonth are optional (0: not charged).
	VCPUSecond  Pico
	DiskGBMonth Pico
	// GranularityMS is what durations are rounded up to.
	GranularityMS int64
	// BillInit adds a cold start's init time to its billed duration, as
	// Lambda does since August 2025.
	BillInit bool
	// FreeTier, FreeRequests, FreeGBSeconds: a monthly allowance.
	FreeTier      bool
	FreeRequests  int64
	FreeGBSeconds int64
}

// Default is Lambda's public x86 price sheet, free tier off.
func Default() Sheet {
	return Sheet{
		Request:       200_000,    // $0.20 per 1M requests
		GBSecond:      16_666_700, // $0.0000166667
		GranularityMS: 1,
		BillInit:      true,
		FreeRequests:  1_000_000,
		FreeGBSeconds: 400_000,
	}
}

// Usage is what one invocation used.
type Usage struct {
	Duration time.Duration
	InitMS   int64
	Cold     bool
	MemoryMB int64
	CPUs     int
	DiskMB   int64
}

// Charge is what one invocation costs.
type Charge struct {
	BilledMS int64
	Request  Pico
	Compute  Pico
}

// Total is the invocation's cost.
func (c Charge) Total() Pico { return c.Request + c.Compute }

// msPerMonth is the month disk prices are quoted for: 30 days.
const msPerMonth = 30 * 24 * 3600 * 1000

// mulDiv returns a×b/d rounded half up, in 128-bit arithmetic so that no
// product overflows.
func mulDiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, d/2, 0)
	hi += carry
	if hi >= d {
		return math.MaxInt64 // beyond any real bill; saturate (as a Pico)
	}
	q, _ := bits.Div64(hi, lo, d)
	return min(q, math.MaxInt64)
}

// addSat adds two amounts of mulDiv, saturating as a Pico.
func addSat(a, b uint64) uint64 { return min(a+b, math.MaxInt64) } // each ≤ MaxInt64: no wrap

// BilledMS is a duration rounded up to the granularity, at least one unit.
func (s Sheet) BilledMS(u Usage) int64 {
	g := max(s.GranularityMS, 1)
	us := u.Duration.Microseconds()
	if u.Cold && s.BillInit {
		us += u.InitMS * 1000
	}
	units := (us + g*1000 - 1) / (g * 1000)
	return max(units, 1) * g
}

// Charge prices one invocation.
func (s Sheet) Charge(u Usage) Charge {
	billed := s.BilledMS(u)
	c := Charge{BilledMS: billed, Request: s.Request}
	// GB-seconds = MiB/1024 × ms/1000.
	compute := mulDiv(uint64(s.GBSecond), uint64(u.MemoryMB)*uint64(billed), 1024*1000)
	if s.VCPUSecond > 0 {
		compute = addSat(compute, mulDiv(uint64(s.VCPUSecond), uint64(max(u.CPUs, 1))*uint64(billed), 1000))
	}
	if s.DiskGBMonth > 0 {
		compute = addSat(compute, mulDiv(uint64(s.DiskGBMonth), uint64(u.DiskMB)*uint64(billed), 1024*msPerMonth))
	}
	c.Compute = Pico(compute)
	return c
}

// Totals are a period's sums.
type Totals struct {
	Requests int64
	// MBMS is the sum of configured memory (MiB) × billed ms.
	MBMS    int64
	Request Pico
	Compute Pico
}

// GBSeconds is MBMS in GB-seconds, as a float for display.
func (t Totals) GBSeconds() float64 { return float64(t.MBMS) / (1024 * 1000) }

// Credit is what the free tier takes off a month's totals: the free
// requests and GB-seconds, valued at this sheet's prices, never more than
// was charged.
func (s Sheet) Credit(t Totals) (request, compute Pico) {
	if !s.FreeTier {
		return 0, 0
	}
	request = Pico(min(t.Requests, s.FreeRequests)) * s.Request
	freeMBMS := uint64(s.FreeGBSeconds) * 1024 * 1000
	compute = Pico(mulDiv(uint64(s.GBSecond), min(uint64(t.MBMS), freeMBMS), 1024*1000))
	return min(request, t.Request), min(compute, t.Compute)
}
