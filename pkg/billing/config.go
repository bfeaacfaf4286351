package billing

import (
	"fmt"
	"sort"
	"strconv"
)

// Key is one setting of `faas config`.
type Key struct {
	Name    string
	Default string
	Help    string
	parse   func(string) error
}

func amount(v string) error { _, err := ParseDollars(v); return err }

func count(max int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > max {
			return fmt.Errorf("invalid value %q: use a whole number from 0 to %d", v, max)
		}
		return nil
	}
}

func boolean(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("invalid value %q: use true or false", v)
	}
	return nil
}

// Keys are every setting, with its default.
var Keys = []Key{
	{"price.request", "0.0000002", "dollars per request ($0.20 per 1M)", amount},
	{"price.gb_second", "0.0000166667", "dollars per GB-second of configured memory", amount},
	{"price.vcpu_second", "0", "dollars per vCPU-second (0: not charged)", amount},
	{"price.disk_gb_month", "0", "dollars per GB-month of configured disk (0: not charged)", amount},
	{"billing.granularity_ms", "1", "billed duration is rounded up to this many ms", func(v string) error {
		if err := count(60_000)(v); err != nil {
			return err
		}
		if v == "0" {
			return fmt.Errorf("invalid value 0: use at least 1 ms")
		}
		return nil
	}},
	{"billing.init", "true", "bill a cold start's init time (Lambda does since August 2025)", boolean},
	{"free_tier.enabled", "false", "apply a monthly free tier", boolean},
	{"free_tier.requests", "1000000", "free requests per month", count(1 << 40)},
	{"free_tier.gb_seconds", "400000", "free GB-seconds per month", count(1 << 40)},
	{"budget.monthly", "", "refuse invocations once this many dollars are spent in a month (empty: no budget)", amount},
}

// Lookup finds a key.
func Lookup(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Validate checks a value for the key; "" resets it to the default.
func (k Key) Validate(v string) error {
	if v == "" {
		return nil
	}
	return k.parse(v)
}

// KeyNames lists the keys, sorted.
func KeyNames() []string {
	out := make([]string, len(Keys))
	for i, k := range Keys {
		out[i] = k.Name
	}
	sort.Strings(out)
	return out
}

// Settings are the sheet and budget a configuration gives.
type Settings struct {
	Sheet Sheet
	// Budget is the monthly budget; 0 means none.
	Budget Pico
}

// FromConfig reads settings from stored values, defaults for the rest.
func FromConfig(stored map[string]string) (Settings, error) {
	get := func(name string) string {
		if v, ok := stored[name]; ok {
			return v
		}
		k, _ := Lookup(name)
		return k.Default
	}
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
