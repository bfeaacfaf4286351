package api

import (
	"math"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/store"
)

// BillLine is one function's line of a bill, or the total.
type BillLine struct {
	Function    string  `json:"function,omitempty"`
	Invocations int64   `json:"invocations"`
	Errors      int64   `json:"errors"`
	DurationMS  float64 `json:"duration_ms"`
	BilledMS    int64   `json:"billed_ms"`
	GBSeconds   float64 `json:"gb_seconds"`
	MBMS        int64   `json:"mb_ms"`
	RequestPico int64   `json:"request_pico"`
	ComputePico int64   `json:"compute_pico"`
	TotalPico   int64   `json:"total_pico"`
	TotalUSD    string  `json:"total_usd"`
}

// Budget is the monthly budget and what was spent of it.
type Budget struct {
	MonthlyPico int64 `json:"monthly_pico"`
	SpentPico   int64 `json:"spent_pico"`
}

// Bill is a month's bill as `faas bill -o json` prints it.
type Bill struct {
	Month     string     `json:"month"`
	TimeZone  string     `json:"time_zone"`
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Functions []BillLine `json:"functions"`
	Total     BillLine   `json:"total"`
	FreeTier  struct {
		Enabled           bool  `json:"enabled"`
		RequestCreditPico int64 `json:"request_credit_pico"`
		ComputeCreditPico int64 `json:"compute_credit_pico"`
	} `json:"free_tier"`
	DuePico int64            `json:"due_pico"`
	DueUSD  string           `json:"due_usd"`
	Budget  *Budget          `json:"budget"`
	Daily   map[string]int64 `json:"daily_pico"`
}

// NewBillLine converts one row.
func NewBillLine(r store.BillRow) BillLine {
	total := r.RequestPico + r.ComputePico
	return BillLine{
		Function: r.Function, Invocations: r.Invocations, Errors: r.Errors,
		DurationMS: float64(r.DurationUS) / 1000, BilledMS: r.BilledMS,
		GBSeconds: float64(r.MBMS) / (1024 * 1000), MBMS: r.MBMS,
		RequestPico: r.RequestPico, ComputePico: r.ComputePico, TotalPico: total,
		TotalUSD: billing.Pico(total).String(),
	}
}

func (l BillLine) row() store.BillRow {
	return store.BillRow{Function: l.Function, Invocations: l.Invocations, Errors: l.Errors,
		DurationUS: int64(math.Round(l.DurationMS * 1000)), BilledMS: l.BilledMS, MBMS: l.MBMS,
		RequestPico: l.RequestPico, ComputePico: l.ComputePico}
}

// TotalLine sums a bill's rows.
func TotalLine(b engine.Bill) BillLine {
	t := store.BillRow{}
	for _, r := range b.Rows {
		t.Invocations += r.Invocations
		t.Errors += r.Errors
		t.DurationUS += r.DurationUS
		t.BilledMS += r.BilledMS
		t.MBMS += r.MBMS
		t.RequestPico += r.RequestPico
		t.ComputePico += r.ComputePico
	}
	return NewBillLine(t)
}

// NewBill converts a bill.
func NewBill(b engine.Bill) Bill {
	out := Bill{Month: b.Month, TimeZone: b.Zone, From: b.From, To: b.To,
		Functions: []BillLine{}, Total: TotalLine(b), DuePico: int64(b.Due), DueUSD: b.Due.String(), Daily: b.Daily}
	for _, r := range b.Rows {
		out.Functions = append(out.Functions, NewBillLine(r))
	}
	out.FreeTier.Enabled = b.Settings.Sheet.FreeTier
	out.FreeTier.RequestCreditPico, out.FreeTier.ComputeCreditPico = int64(b.RequestCredit), int64(b.ComputeCredit)
	if b.Settings.Budget > 0 {
		out.Budget = &Budget{int64(b.Settings.Budget), int64(b.Spent)}
	}
	return out
}

// Engine turns a bill read from JSON back into the engine's, for printing.
func (b Bill) Engine() engine.Bill {
	out := engine.Bill{Month: b.Month, Zone: b.TimeZone, From: b.From, To: b.To, Daily: b.Daily,
		RequestCredit: billing.Pico(b.FreeTier.RequestCreditPico), ComputeCredit: billing.Pico(b.FreeTier.ComputeCreditPico),
		Due: billing.Pico(b.DuePico)}
	for _, l := range b.Functions {
		r := l.row()
		out.Rows = append(out.Rows, r)
		out.Totals.Requests += r.Invocations
		out.Totals.MBMS += r.MBMS
		out.Totals.Request += billing.Pico(r.RequestPico)
		out.Totals.Compute += billing.Pico(r.ComputePico)
	}
	out.Settings.Sheet.FreeTier = b.FreeTier.Enabled
	if b.Budget != nil {
		out.Settings.Budget, out.Spent = billing.Pico(b.Budget.MonthlyPico), billing.Pico(b.Budget.SpentPico)
	}
	return out
}
