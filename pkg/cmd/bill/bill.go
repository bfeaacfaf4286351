// Package bill is `faas bill`.
package bill

import (
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas bill`.
type Options struct {
	IO      *iostreams.IOStreams
	Backend func() (cmdutil.Backend, error)
	Request engine.BillRequest
	Output  string
}

// NewCmd returns the bill command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
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

// Run prints the bill.
func Run(ctx context.Context, o *Options) error {
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	b, err := eng.Bill(ctx, o.Request)
	if err != nil {
		return err
	}
	switch o.Output {
	case cmdutil.OutputJSON:
		return cmdutil.WriteJSON(o.IO.Out, api.NewBill(b))
	case "csv":
		return writeCSV(o, b)
	}
	return writeTable(o, b)
}

func writeCSV(o *Options, b engine.Bill) error {
	w := csv.NewWriter(o.IO.Out)
	_ = w.Write([]string{"month", "function", "invocations", "errors", "duration_ms", "billed_ms", "gb_seconds", "request_usd", "compute_usd", "total_usd"})
	row := func(name string, l api.BillLine) {
		_ = w.Write([]string{b.Month, name, strconv.FormatInt(l.Invocations, 10), strconv.FormatInt(l.Errors, 10),
			strconv.FormatFloat(l.DurationMS, 'f', -1, 64), strconv.FormatInt(l.BilledMS, 10),
			strconv.FormatFloat(l.GBSeconds, 'f', -1, 64), billing.Pico(l.RequestPico).String(),
			billing.Pico(l.ComputePico).String(), billing.Pico(l.TotalPico).String()})
	}
	for _, r := range b.Rows {
		row(r.Function, api.NewBillLine(r))
	}
	row("(total)", api.TotalLine(b))
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
	fmt.Fprintf(io.ErrOut, "%s %s (%s)\n", st.Bold.Render("Bill for"), b.Month, b.Zone)
	if len(b.Rows) == 0 {
		fmt.Fprintln(io.ErrOut, "no invocations this month")
	}
	t := io.NewTable("FUNCTION", "INVOCATIONS", "ERRORS", "DURATION (s)", "BILLED (s)", "GB-S", "REQUESTS", "COMPUTE", "TOTAL")
	add := func(name string, l api.BillLine) {
		t.AddRow(name, strconv.FormatInt(l.Invocations, 10), strconv.FormatInt(l.Errors, 10), seconds(l.DurationMS),
			seconds(float64(l.BilledMS)), strconv.FormatFloat(l.GBSeconds, 'f', 3, 64), billing.Pico(l.RequestPico).Cents(),
			billing.Pico(l.ComputePico).Cents(), billing.Pico(l.TotalPico).Cents())
	}
	for _, r := range b.Rows {
		add(r.Function, api.NewBillLine(r))
	}
	tot := api.TotalLine(b)
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
