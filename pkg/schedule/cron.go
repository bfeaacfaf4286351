package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cron is EventBridge's six fields, each the set of values it matches.
// Exactly one of day-of-month and day-of-week is "?" (any): the other
// chooses the days.
type cron struct {
	minute, hour, dom, month, dow, year []bool
	anyDOM                              bool
}

const minYear, maxYear = 1970, 2199

type field struct {
	name     string
	lo, hi   int
	names    []string // names[i] is value lo+i
	question bool     // "?" allowed
}

var (
	months = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	days   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
	fields = []field{
		{name: "minutes", lo: 0, hi: 59},
		{name: "hours", lo: 0, hi: 23},
		{name: "day-of-month", lo: 1, hi: 31, question: true},
		{name: "month", lo: 1, hi: 12, names: months},
		{name: "day-of-week", lo: 1, hi: 7, names: days, question: true},
		{name: "year", lo: minYear, hi: maxYear},
	}
)

func parseCron(body string) (*cron, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("a cron has 6 fields (minutes hours day-of-month month day-of-week year), not %d, such as cron(0 12 * * ? *)", len(f))
	}
	sets := make([][]bool, 6)
	for i, spec := range fields {
		var err error
		if sets[i], err = spec.parse(f[i]); err != nil {
			return nil, err
		}
	}
	c := &cron{minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4], year: sets[5]}
	switch domQ, dowQ := f[2] == "?", f[4] == "?"; {
	case domQ && dowQ:
		return nil, fmt.Errorf("day-of-month and day-of-week are both ?: give one of them, such as * for every day")
	case !domQ && !dowQ:
		return nil, fmt.Errorf("one of day-of-month and day-of-week must be ? (EventBridge's rule), such as cron(0 12 * * ? *)")
	case domQ:
		c.anyDOM = true
	}
	return c, nil
}

// parse reads one field: *, ?, a value, a range a-b, a step */n, a/n or
// a-b/n, or a list of those separated by commas.
func (f field) parse(s string) ([]bool, error) {
	set := make([]bool, f.hi+1)
	if s == "?" {
		if !f.question {
			return nil, fmt.Errorf("%s: ? is only for day-of-month or day-of-week", f.name)
		}
		for v := f.lo; v <= f.hi; v++ {
			set[v] = true
		}
		return set, nil
	}
	bare := strings.ToUpper(s)
	for _, n := range f.names {
		bare = strings.ReplaceAll(bare, n, "")
	}
	if strings.ContainsAny(bare, "LW#") {
		return nil, fmt.Errorf("%s %q: L, W and # are not supported; use values, ranges, lists and steps", f.name, s)
	}
	for _, item := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.hi {
				return nil, fmt.Errorf("%s %q: the step after / must be a whole number from 1 to %d", f.name, item, f.hi)
			}
			step = n
		}
		lo, hi := f.lo, f.hi
		switch {
		case rng == "*":
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return nil, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return nil, err
				}
				if hi < lo {
					return nil, fmt.Errorf("%s %q: the range runs backwards", f.name, item)
				}
			} else if hasStep {
				hi = f.hi // a/n: from a on
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func (f field) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.lo + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.lo || v > f.hi {
		return 0, fmt.Errorf("%s %q: use %d to %d%s", f.name, s, f.lo, f.hi, namesHint(f.names))
	}
	return v, nil
}

func namesHint(names []string) string {
	if names == nil {
		return ""
	}
	return " or " + names[0] + "-" + names[len(names)-1]
}

// day reports whether t's day matches.
func (c *cron) day(t time.Time) bool {
	if c.anyDOM {
		return c.dow[int(t.Weekday())+1]
	}
	return c.dom[t.Day()]
}

// maxSteps bounds a search: a sparse cron (29 February on a Monday)
// still ends within a few thousand steps.
const maxSteps = 1 << 20

func (c *cron) next(t time.Time) time.Time {
	loc := t.Location()
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	y, m, d := t.Date()
	t = at(y, m, d, t.Hour(), t.Minute()+1)
	for range maxSteps {
		y, m, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		var n time.Time
		switch {
		case y > maxYear:
			return time.Time{}
		case !c.year[y]:
			n = at(y+1, 1, 1, 0, 0)
		case !c.month[m]:
			n = at(y, m+1, 1, 0, 0)
		case !c.day(t):
			n = at(y, m, d+1, 0, 0)
		case !c.hour[h]:
			n = at(y, m, d, h+1, 0)
		case !c.minute[mi]:
			n = t.Add(time.Minute)
		default:
			return t
		}
		if !n.After(t) { // a daylight-saving change folded time back
			n = t.Add(time.Minute)
		}
		t = n
	}
	return time.Time{}
}

func (c *cron) prev(t time.Time) time.Time {
	loc := t.Location()
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	y, m, d := t.Date()
	t = at(y, m, d, t.Hour(), t.Minute())
	for range maxSteps {
		y, m, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		var n time.Time
		switch {
		case y < minYear:
			return time.Time{}
		case y > maxYear || !c.year[y]:
			n = at(y, 1, 1, 0, 0)
		case !c.month[m]:
			n = at(y, m, 1, 0, 0)
		case !c.day(t):
			n = at(y, m, d, 0, 0)
		case !c.hour[h]:
			n = at(y, m, d, h, 0)
		case !c.minute[mi]:
			n = t
		default:
			return t
		}
		n = n.Add(-time.Minute)
		if !n.Before(t) {
			n = t.Add(-time.Minute)
		}
		t = n
	}
	return time.Time{}
}
