// Package schedule reads EventBridge schedule expressions, rate(N unit)
// and cron(minutes hours day-of-month month day-of-week year), and says
// when they fire. It is pure: the caller hands it the times.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // --schedule-tz works on hosts without a zoneinfo database
)

// Schedule is a parsed expression in its time zone.
type Schedule struct {
	expr string
	// every is a rate's period; zero for a cron.
	every time.Duration
	cron  *cron
	loc   *time.Location
}

// Parse reads an expression; tz is an IANA zone ("" is UTC), which only
// cron expressions use: a rate's ticks are multiples of its period since
// the Unix epoch, whatever the zone.
func Parse(expr, tz string) (Schedule, error) {
	loc, err := Location(tz)
	if err != nil {
		return Schedule{}, err
	}
	s := Schedule{expr: expr, loc: loc}
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		s.every, err = parseRate(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		s.cron, err = parseCron(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	default:
		err = fmt.Errorf("use rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)")
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return s, nil
}

// Location is the zone a --schedule-tz names ("" is UTC).
func Location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris or UTC", tz)
	}
	return loc, nil
}

// String is the expression as given.
func (s Schedule) String() string { return s.expr }

// Location is the schedule's zone.
func (s Schedule) Location() *time.Location { return s.loc }

// Next is the first tick strictly after t (zero when there is none
// before the year 2200).
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return time.Unix(0, 0).Add((t.Sub(time.Unix(0, 0))/s.every + 1) * s.every).In(t.Location())
	}
	return s.cron.next(t.In(s.loc))
}

// Prev is the last tick at or before t (zero when there is none since
// 1970).
func (s Schedule) Prev(t time.Time) time.Time {
	if s.every > 0 {
		return time.Unix(0, 0).Add(t.Sub(time.Unix(0, 0)) / s.every * s.every).In(t.Location())
	}
	return s.cron.prev(t.In(s.loc))
}

// Every is a rate's period (0 for a cron).
func (s Schedule) Every() time.Duration { return s.every }

func parseRate(body string) (time.Duration, error) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, fmt.Errorf("a rate is rate(N unit), such as rate(5 minutes)")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 || n > 1000000 {
		return 0, fmt.Errorf("%q is not a positive whole number", f[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := f[1]
	// EventBridge's rule: 1 takes the singular, more the plural.
	want := strings.TrimSuffix(unit, "s")
	d, ok := units[want]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q: use minute(s), hour(s) or day(s)", unit)
	}
	if n == 1 && unit != want {
		return 0, fmt.Errorf("use rate(1 %s), singular, as EventBridge does", want)
	}
	if n > 1 && unit == want {
		return 0, fmt.Errorf("use rate(%d %ss), plural, as EventBridge does", n, want)
	}
	return time.Duration(n) * d, nil
}
