package engine

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/faasdev/faas/pkg/billing"
	"github.com/faasdev/faas/pkg/config"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/provider"
	"github.com/faasdev/faas/pkg/store"
)

// SettingsTTL is how long a process trusts the settings it read: a
// setting changed through another home's faas (another host of a shared
// database) is in force here at most this long after.
const SettingsTTL = time.Second

// Settings returns the price sheet and budget in force. They are read
// once, again after `faas config set` (in any process of this home) has
// touched run/config.stamp, and again when older than SettingsTTL, so a
// long-lived server bills at the prices of the moment.
func (e *Engine) Settings(ctx context.Context) (billing.Settings, error) {
	stamp := faashome.Changed(faashome.ConfigStamp(e.Home))
	e.settingsMu.Lock()
	defer e.settingsMu.Unlock()
	if e.settingsLoaded && stamp.Equal(e.settingsStamp) && time.Since(e.settingsRead) < SettingsTTL {
		return e.settings, e.settingsErr
	}
	stored, err := e.store.Config(ctx)
	if err != nil {
		return billing.Settings{}, err // not kept: the next call tries again
	}
	e.settings, e.settingsErr = billing.FromConfig(stored)
	e.stored = stored
	if e.settingsErr != nil {
		e.settingsErr = fault.WithHint(fault.Platformf("%w", e.settingsErr), "fix it with `faas config set KEY VALUE`")
	}
	e.settingsLoaded, e.settingsStamp, e.settingsRead = true, stamp, time.Now()
	return e.settings, e.settingsErr
}

// configure hands a provider that has settings of its own
// (provider.Configurable) the stored settings, as Settings last read them
// (again when they changed), before it launches.
func (e *Engine) configure(ctx context.Context, p provider.Provider) {
	c, ok := p.(provider.Configurable)
	if !ok {
		return
	}
	if _, err := e.Settings(ctx); err != nil {
		return
	}
	e.settingsMu.Lock()
	stored := e.stored
	e.settingsMu.Unlock()
	c.Configure(stored)
}

// ConfigGet returns a setting's value and whether it is the default.
func (e *Engine) ConfigGet(ctx context.Context, key string) (value string, isDefault bool, err error) {
	k, ok := config.Lookup(key)
	if !ok {
		return "", false, unknownKey(key)
	}
	stored, err := e.store.Config(ctx)
	if err != nil {
		return "", false, err
	}
	if v, ok := stored[key]; ok {
		return v, false, nil
	}
	return k.Default, true, nil
}

// ConfigSet validates and stores a setting; "" resets it.
func (e *Engine) ConfigSet(ctx context.Context, key, value string) error {
	k, ok := config.Lookup(key)
	if !ok {
		return unknownKey(key)
	}
	if err := k.Validate(value); err != nil {
		return fault.Usagef("%s: %w", key, err)
	}
	if err := e.store.SetConfig(ctx, key, value, e.Now()); err != nil {
		return err
	}
	// Tell long-lived processes (faas serve) to read the settings again.
	return faashome.Touch(faashome.ConfigStamp(e.Home), e.Now())
}

// Config returns every setting with its value.
func (e *Engine) Config(ctx context.Context) (map[string]string, error) {
	stored, err := e.store.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range config.Keys() {
		out[k.Name] = k.Default
		if v, ok := stored[k.Name]; ok {
			out[k.Name] = v
		}
	}
	return out, nil
}

func unknownKey(key string) error {
	return fault.WithHint(fault.Usagef("unknown config key %q", key), "see the keys with `faas config list`")
}

// checkBudget refuses an invocation once the month's spend has reached the
// budget.
func (e *Engine) checkBudget(ctx context.Context, set billing.Settings, now time.Time) error {
	if set.Budget == 0 {
		return nil
	}
	month := store.Month(now)
	spent, err := e.store.Spend(ctx, month, e.Owner)
	if err != nil {
		return err
	}
	if billing.Pico(spent) >= set.Budget {
		return fault.WithHint(fault.Platformf("budget exceeded: %s spent of the %s monthly budget for %s", billing.Pico(spent).Human(), set.Budget.Human(), month),
			"raise it with `faas config set budget.monthly AMOUNT` or remove it with `faas config set budget.monthly ''`")
	}
	return nil
}

// price sets a finished job's billed duration and cost.
func price(job *store.Job, sheet billing.Sheet, cfg function.Config) {
	c := sheet.Charge(billing.Usage{Duration: job.Duration, InitMS: job.InitMS, Cold: job.Cold,
		MemoryMB: job.MemoryMB, CPUs: cfg.CPUs, DiskMB: cfg.DiskMB})
	job.BilledMS, job.RequestPico, job.ComputePico = c.BilledMS, int64(c.Request), int64(c.Compute)
}

var monthRE = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseMonth reads YYYY-MM as a month in the local time zone; "" is the
// current month.
func ParseMonth(s string, now time.Time) (from, to time.Time, err error) {
	if s == "" {
		now = now.Local()
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.Local)
		return from, from.AddDate(0, 1, 0), nil
	}
	m := monthRE.FindStringSubmatch(s)
	if m == nil {
		return from, to, fault.Usagef("invalid month %q: use YYYY-MM, such as 2026-11", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 || y < 1970 {
		return from, to, fault.Usagef("invalid month %q: use YYYY-MM with a month from 01 to 12", s)
	}
	from = time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.Local)
	return from, from.AddDate(0, 1, 0), nil
}

// BillRequest selects a bill.
type BillRequest struct {
	Month    string
	Function string
	Owner    string
	OwnerSet bool
}

// Bill is a month's bill.
type Bill struct {
	Month string
	// Zone names the time zone of the month: $TZ, else the zone's
	// abbreviation at the month's start.
	Zone     string
	From, To time.Time
	Rows     []store.BillRow
	Totals   billing.Totals
	// RequestCredit and ComputeCredit are what the free tier takes off.
	RequestCredit, ComputeCredit billing.Pico
	Due                          billing.Pico
	Settings                     billing.Settings
	// Spent is the month's spend of the engine's owner, for the budget.
	Spent billing.Pico
	Daily map[string]int64
}

// Bill computes a month's bill from the jobs' own costs.
func (e *Engine) Bill(ctx context.Context, r BillRequest) (Bill, error) {
	from, to, err := ParseMonth(r.Month, e.Now())
	if err != nil {
		return Bill{}, err
	}
	if r.Function != "" {
		if err := function.ValidateName(r.Function); err != nil {
			return Bill{}, err
		}
	}
	f := store.BillFilter{From: from, To: to, Function: r.Function, Owner: r.Owner, OwnerSet: r.OwnerSet, Spender: e.Owner}
	if e.Scoped {
		f.Owner, f.OwnerSet = e.Owner, true
	}
	// One read of the store (one round trip on PostgreSQL): the sums, the
	// days, the spend and the prices they are charged at.
	d, err := e.store.Bill(ctx, f)
	if err != nil {
		return Bill{}, err
	}
	set, err := billing.FromConfig(d.Config)
	if err != nil {
		return Bill{}, fault.WithHint(fault.Platformf("%w", err), "fix it with `faas config set KEY VALUE`")
	}
	b := Bill{Month: from.Format("2006-01"), Zone: os.Getenv("TZ"), From: from, To: to, Rows: d.Rows, Settings: set,
		Daily: d.Daily, Spent: billing.Pico(d.Spent)}
	if b.Zone == "" {
		b.Zone, _ = from.Zone()
	}
	for _, row := range d.Rows {
		b.Totals.Requests += row.Invocations
		b.Totals.MBMS += row.MBMS
		b.Totals.Request += billing.Pico(row.RequestPico)
		b.Totals.Compute += billing.Pico(row.ComputePico)
	}
	b.RequestCredit, b.ComputeCredit = set.Sheet.Credit(b.Totals)
	b.Due = b.Totals.Request + b.Totals.Compute - b.RequestCredit - b.ComputeCredit
	return b, nil
}
