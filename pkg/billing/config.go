package billing

import (
	"fmt"
	"strconv"

	"github.com/faasdev/faas/pkg/config"
)

func amount(v string) error { _, err := ParseDollars(v); return err }

func init() {
	// The defaults are Default()'s sheet, written as settings.
	d := Default()
	config.Register(
		config.Key{Name: "price.request", Default: d.Request.String(), Help: "dollars per request ($0.20 per 1M)", Check: amount},
		config.Key{Name: "price.gb_second", Default: d.GBSecond.String(), Help: "dollars per GB-second of configured memory", Check: amount},
		config.Key{Name: "price.vcpu_second", Default: "0", Help: "dollars per vCPU-second (0: not charged)", Check: amount},
		config.Key{Name: "price.disk_gb_month", Default: "0", Help: "dollars per GB-month of configured disk (0: not charged)", Check: amount},
		config.Key{Name: "billing.granularity_ms", Default: strconv.FormatInt(d.GranularityMS, 10), Help: "billed duration is rounded up to this many ms", Check: func(v string) error {
			if err := config.Count(60_000)(v); err != nil {
				return err
			}
			if v == "0" {
				return fmt.Errorf("invalid value 0: use at least 1 ms")
			}
			return nil
		}},
		config.Key{Name: "billing.init", Default: strconv.FormatBool(d.BillInit), Help: "bill a cold start's init time (Lambda does since August 2025)", Check: config.Bool},
		config.Key{Name: "free_tier.enabled", Default: "false", Help: "apply a monthly free tier", Check: config.Bool},
		config.Key{Name: "free_tier.requests", Default: strconv.FormatInt(d.FreeRequests, 10), Help: "free requests per month", Check: config.Count(1 << 40)},
		config.Key{Name: "free_tier.gb_seconds", Default: strconv.FormatInt(d.FreeGBSeconds, 10), Help: "free GB-seconds per month", Check: config.Count(1 << 40)},
		config.Key{Name: "budget.monthly", Default: "", Help: "refuse invocations once this many dollars are spent in a month (empty: no budget)", Check: amount},
	)
}

// Settings are the sheet and budget a configuration gives.
type Settings struct {
	Sheet Sheet
	// Budget is the monthly budget; 0 means none.
	Budget Pico
}

// FromConfig reads settings from stored values, defaults for the rest.
func FromConfig(stored map[string]string) (Settings, error) {
	get := func(name string) string { return config.Value(stored, name) }
	var s Settings
	var err error
	pico := func(name string) Pico {
		v := get(name)
		if v == "" || err != nil {
			return 0
		}
		p, e := ParseDollars(v)
		if e != nil {
			err = fmt.Errorf("config %s: %w", name, e)
		}
		return p
	}
	integer := func(name string) int64 {
		n, e := strconv.ParseInt(get(name), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("config %s: %w", name, e)
		}
		return n
	}
	flag := func(name string) bool {
		b, e := strconv.ParseBool(get(name))
		if e != nil && err == nil {
			err = fmt.Errorf("config %s: %w", name, e)
		}
		return b
	}
	s.Sheet = Sheet{
		Request: pico("price.request"), GBSecond: pico("price.gb_second"),
		VCPUSecond: pico("price.vcpu_second"), DiskGBMonth: pico("price.disk_gb_month"),
		GranularityMS: integer("billing.granularity_ms"), BillInit: flag("billing.init"),
		FreeTier: flag("free_tier.enabled"), FreeRequests: integer("free_tier.requests"),
		FreeGBSeconds: integer("free_tier.gb_seconds"),
	}
	s.Budget = pico("budget.monthly")
	return s, err
}
