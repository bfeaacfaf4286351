// Package bill is `faas bill`.
package bill

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// Options of `faas bill`.
type Options struct {
	IO      *iostreams.IOStreams
	Engine  func() (*engine.Engine, error)
	Request engine.BillRequest
	Output  string
}

// NewCmd returns the bill command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Engine: f.Engine}
	cmd := &cobra.Command{
		Use:   "bill",
		Short: "Print a month's pay-as-you-use bill",
		Long: `Print what a month's invocations cost, per function, from the jobs' own
costs: requests plus GB-seconds of configured memory times billed duration,
at the prices in force when each job ended (see faas config list).

The month is in the local time zone (TZ); the default is the current month.
Amounts are exact to the pico-dollar in -o json and -o csv, and rounded half
up to cents only where printed as $x.yy. The free tier, when enabled, is
taken off the month's totals at the current prices.`,
		Example: `  faas bill
  faas bill --month 2026-11 --function resize
  faas bill -o csv > november.csv`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Request.OwnerSet = cmd.Flags().Changed("owner")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Request.Month, "month", "", "YYYY-MM (default: this month)")
	cmd.Flags().StringVar(&opts.Request.Function, "function", "", "only this function")
	cmd.Flags().StringVar(&opts.Request.Owner, "owner", "", "only jobs of this owner")
	cmdutil.AddOutputFlag(cmd, &opts.Output, cmdutil.OutputTable, cmdutil.OutputJSON, "csv")
	_ = cmd.RegisterFlagCompletionFunc("month", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		now := time.Now()
		var months []string
		for i := 0; i < 12; i++ {
			months = append(months, now.AddDate(0, -i, 0).Format("2006-01"))
		}
		return months, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("function", cmdutil.CompleteFunctionNames(f))
	return cmd
}

// lineJSON is one function's line, or the total.
type lineJSON struct {
	Function    string  `json:"function,omitempty"`
	Invocations int64   `json:"invocations"`
	Errors      int64   `json:"errors"`
	DurationMS  float64 `json:"duration_ms"`
	BilledMS    int64   `json:"billed_ms"`
	GBSeconds   float64 `json:"gb_seconds"`
	RequestPico int64   `json:"request_pico"`
	ComputePico int64   `json:"compute_pico"`
	TotalPico   int64   `json:"total_pico"`
	TotalUSD    string  `json:"total_usd"`
}

type billJSON struct {
	Month     string     `json:"month"`
	TimeZone  string     `json:"time_zone"`
	From      time.Time  `json:"from"`
	To        time.Time  `json:"to"`
	Functions []lineJSON `json:"functions"`
	Total     lineJSON   `json:"total"`
	FreeTier  struct {
		Enabled           bool  `json:"enabled"`
		RequestCreditPico int64 `json:"request_credit_pico"`
		ComputeCreditPico int64 `json:"compute_credit_pico"`
	} `json:"free_tier"`
	DuePico int64  `json:"due_pico"`
	DueUSD  string `json:"due_usd"`
	Budget  *struct {
		MonthlyPico int64 `json:"monthly_pico"`
		SpentPico   int64 `json:"spent_pico"`
	} `json:"budget"`
	Daily map[string]int64 `json:"daily_pico"`
}

func line(r store.BillRow) lineJSON {
	total := r.RequestPico + r.ComputePico
	return lineJSON{
		Function: r.Function, Invocations: r.Invocations, Errors: r.Errors,
		DurationMS: float64(r.DurationUS) / 1000, BilledMS: r.BilledMS,
		GBSeconds:   float64(r.MBMS) / (1024 * 1000),
		RequestPico: r.RequestPico, ComputePico: r.ComputePico, TotalPico: total,
		TotalUSD: billing.Pico(total).String(),
	}
}

func totalLine(b engine.Bill) lineJSON {
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
	return line(t)
}

// Run prints the bill.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Engine()
	if err != nil {
		return err
	}
	b, err := eng.Bill(ctx, o.Request)
	if err != nil {
		return err
	}
	switch o.Output {
	case cmdutil.OutputJSON:
		return cmdutil.WriteJSON(o.IO.Out, toJSON(b))
	case "csv":
		return writeCSV(o, b)
	}
	return writeTable(o, b)
}

func toJSON(b engine.Bill) billJSON {
	out := billJSON{Month: b.Month, TimeZone: zone(b.From), From: b.From, To: b.To,
		Functions: []lineJSON{}, Total: totalLine(b), DuePico: int64(b.Due), DueUSD: b.Due.String(), Daily: b.Daily}
	for _, r := range b.Rows {
		out.Functions = append(out.Functions, line(r))
	}
	out.FreeTier.Enabled = b.Settings.Sheet.FreeTier
	out.FreeTier.RequestCreditPico, out.FreeTier.ComputeCreditPico = int64(b.RequestCredit), int64(b.ComputeCredit)
	if b.Settings.Budget > 0 {
		out.Budget = &struct {
			MonthlyPico int64 `json:"monthly_pico"`
			SpentPico   int64 `json:"spent_pico"`
		}{int64(b.Settings.Budget), int64(b.Spent)}
	}
	return out
}

func writeCSV(o *Options, b engine.Bill) error {
	w := csv.NewWriter(o.IO.Out)
	_ = w.Write([]string{"month", "function", "invocations", "errors", "duration_ms", "billed_ms", "gb_seconds", "request_usd", "compute_usd", "total_usd"})
	row := func(name string, l lineJSON) {
		_ = w.Write([]string{b.Month, name, strconv.FormatInt(l.Invocations, 10), strconv.FormatInt(l.Errors, 10),
			strconv.FormatFloat(l.DurationMS, 'f', -1, 64), strconv.FormatInt(l.BilledMS, 10),
			strconv.FormatFloat(l.GBSeconds, 'f', -1, 64), billing.Pico(l.RequestPico).String(),
			billing.Pico(l.ComputePico).String(), billing.Pico(l.TotalPico).String()})
	}
	for _, r := range b.Rows {
		row(r.Function, line(r))
	}
	row("(total)", totalLine(b))
	if b.Settings.Sheet.FreeTier {
		_ = w.Write([]string{b.Month, "(free tier)", "", "", "", "", "", "-" + b.RequestCredit.String(), "-" + b.ComputeCredit.String(), "-" + (b.RequestCredit + b.ComputeCredit).String()})
	}
	_ = w.Write([]string{b.Month, "(due)", "", "", "", "", "", "", "", b.Due.String()})
	w.Flush()
	return w.Error()
}

func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

func writeTable(o *Options, b engine.Bill) error {
	io := o.IO
	st := io.Styles()
	fmt.Fprintf(io.ErrOut, "%s %s (%s)\n", st.Bold.Render("Bill for"), b.Month, zone(b.From))
	if len(b.Rows) == 0 {
		fmt.Fprintln(io.ErrOut, "no invocations this month")
	}
	t := io.NewTable("FUNCTION", "INVOCATIONS", "ERRORS", "DURATION (s)", "BILLED (s)", "GB-S", "REQUESTS", "COMPUTE", "TOTAL")
	add := func(name string, l lineJSON) {
		t.AddRow(name, strconv.FormatInt(l.Invocations, 10), strconv.FormatInt(l.Errors, 10), seconds(l.DurationMS),
			seconds(float64(l.BilledMS)), strconv.FormatFloat(l.GBSeconds, 'f', 3, 64), billing.Pico(l.RequestPico).Cents(),
			billing.Pico(l.ComputePico).Cents(), billing.Pico(l.TotalPico).Cents())
	}
	for _, r := range b.Rows {
		add(r.Function, line(r))
	}
	tot := totalLine(b)
	add("total", tot)
	if b.Settings.Sheet.FreeTier {
		t.AddRow("free tier", "", "", "", "", "", "-"+b.RequestCredit.Cents(), "-"+b.ComputeCredit.Cents(), "-"+(b.RequestCredit+b.ComputeCredit).Cents())
	}
	t.AddRow("due", "", "", "", "", "", "", "", b.Due.Cents())
	if err := t.Render(); err != nil {
		return err
	}
	if b.Settings.Budget > 0 {
		pct := float64(b.Spent) / float64(b.Settings.Budget) * 100
		fmt.Fprintf(io.ErrOut, "budget: %s of %s spent this month (%.0f%%)\n", b.Spent.Human(), b.Settings.Budget.Human(), pct)
	}
	if io.IsStdoutTTY() && len(b.Daily) > 0 {
		chart(io, b)
	}
	return nil
}

// chart draws the cost per day as bars.
func chart(io *iostreams.IOStreams, b engine.Bill) {
	days := make([]string, 0, len(b.Daily))
	var top int64
	for d, p := range b.Daily {
		days = append(days, d)
		top = max(top, p)
	}
	sort.Strings(days)
	const width = 40
	fmt.Fprintln(io.Out)
	for _, d := range days {
		n := 0
		if top > 0 {
			n = int((b.Daily[d]*width + top - 1) / top)
		}
		fmt.Fprintf(io.Out, "%s %s %s\n", d, io.Styles().Success.Render(strings.Repeat("█", n)), billing.Pico(b.Daily[d]).String())
	}
}

// zone names the time zone months are read in: $TZ, else the zone's
// abbreviation.
func zone(t time.Time) string {
	if tz := os.Getenv("TZ"); tz != "" {
		return tz
	}
	name, _ := t.Zone()
	return name
}
