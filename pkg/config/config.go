// Package config is the registry of faas' settings (`faas config`): each
// key with its default, meaning and check. The packages that own a
// setting register it; the store keeps the values.
package config

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Key is one setting.
type Key struct {
	Name    string
	Default string
	Help    string
	Check   func(string) error
}

// Validate checks a value for the key; "" resets it to the default.
func (k Key) Validate(v string) error {
	if v == "" || k.Check == nil {
		return nil
	}
	return k.Check(v)
}

var keys []Key

// Register adds keys to the registry.
func Register(ks ...Key) { keys = append(keys, ks...) }

// Keys are every registered setting, sorted by name (registration order
// follows package initialisation, which is no order to show).
func Keys() []Key {
	out := append([]Key(nil), keys...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a key.
func Lookup(name string) (Key, bool) {
	for _, k := range keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// KeyNames lists the keys, sorted.
func KeyNames() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	sort.Strings(out)
	return out
}

// Value is a stored value, or the key's default.
func Value(stored map[string]string, name string) string {
	if v, ok := stored[name]; ok {
		return v
	}
	k, _ := Lookup(name)
	return k.Default
}

// Count checks a whole number from 0 to max.
func Count(max int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > max {
			return fmt.Errorf("invalid value %q: use a whole number from 0 to %d", v, max)
		}
		return nil
	}
}

// Bool checks true or false.
func Bool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("invalid value %q: use true or false", v)
	}
	return nil
}

// Duration checks a positive duration.
func Duration(v string) error {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return fmt.Errorf("invalid value %q: use a duration such as 30s or 5m", v)
	}
	return nil
}

// Fraction checks a number from 0 to 1.
func Fraction(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 || f > 1 {
		return fmt.Errorf("invalid value %q: use a number above 0 and at most 1, such as 0.8", v)
	}
	return nil
}

// Positive checks a number above 0.
func Positive(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 {
		return fmt.Errorf("invalid value %q: use a number above 0", v)
	}
	return nil
}
