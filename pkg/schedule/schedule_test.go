package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, expr, tz string) Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRate(t *testing.T) {
	s := mustParse(t, "rate(5 minutes)", "")
	if got := s.Next(at("2026-11-03T12:03:10Z")); !got.Equal(at("2026-11-03T12:05:00Z")) {
		t.Errorf("next = %v", got)
	}
	if got := s.Next(at("2026-11-03T12:05:00Z")); !got.Equal(at("2026-11-03T12:10:00Z")) {
		t.Errorf("next after a tick = %v, want the one after", got)
	}
	if got := s.Prev(at("2026-11-03T12:05:00Z")); !got.Equal(at("2026-11-03T12:05:00Z")) {
		t.Errorf("prev at a tick = %v, want the tick", got)
	}
	if got := s.Prev(at("2026-11-03T12:09:59Z")); !got.Equal(at("2026-11-03T12:05:00Z")) {
		t.Errorf("prev = %v", got)
	}
	if d := mustParse(t, "rate(1 day)", "").Every(); d != 24*time.Hour {
		t.Errorf("rate(1 day) = %v", d)
	}
}

func TestCron(t *testing.T) {
	cases := []struct{ expr, tz, from, next, prev string }{
		{"cron(0 12 * * ? *)", "", "2026-11-03T12:00:00Z", "2026-11-04T12:00:00Z", "2026-11-03T12:00:00Z"},
		{"cron(0 12 * * ? *)", "", "2026-11-03T11:59:00Z", "2026-11-03T12:00:00Z", "2026-11-02T12:00:00Z"},
		// Weekdays at 09:15 and 17:15: 2026-11-06 is a Friday.
		{"cron(15 9,17 ? * MON-FRI *)", "", "2026-11-06T18:00:00Z", "2026-11-09T09:15:00Z", "2026-11-06T17:15:00Z"},
		// Every 10 minutes from 5 past, hours 8 to 10.
		{"cron(5/10 8-10 * * ? *)", "", "2026-11-03T10:56:00Z", "2026-11-04T08:05:00Z", "2026-11-03T10:55:00Z"},
		// The first of each month, in Paris (UTC+1 in November).
		{"cron(0 0 1 * ? *)", "Europe/Paris", "2026-11-03T00:00:00Z", "2026-11-30T23:00:00Z", "2026-10-31T23:00:00Z"},
		// Sunday is 1.
		{"cron(0 0 ? * 1 *)", "", "2026-11-03T00:00:00Z", "2026-11-08T00:00:00Z", "2026-11-01T00:00:00Z"},
		// Only in 2027.
		{"cron(0 0 1 JAN ? 2027)", "", "2026-11-03T00:00:00Z", "2027-01-01T00:00:00Z", ""},
	}
	for _, c := range cases {
		s := mustParse(t, c.expr, c.tz)
		if got := s.Next(at(c.from)); !got.Equal(at(c.next)) {
			t.Errorf("%s in %q: next after %s = %v, want %s", c.expr, c.tz, c.from, got.UTC(), c.next)
		}
		got := s.Prev(at(c.from))
		if c.prev == "" {
			if !got.IsZero() {
				t.Errorf("%s: prev before %s = %v, want none", c.expr, c.from, got)
			}
		} else if !got.Equal(at(c.prev)) {
			t.Errorf("%s in %q: prev at %s = %v, want %s", c.expr, c.tz, c.from, got.UTC(), c.prev)
		}
	}
}

func TestBadExpressions(t *testing.T) {
	cases := map[string]string{
		"every 5 minutes":           "use rate(",
		"rate(5 minute)":            "plural",
		"rate(1 minutes)":           "singular",
		"rate(0 minutes)":           "positive",
		"rate(5 weeks)":             "unknown unit",
		"cron(0 12 * * *)":          "6 fields",
		"cron(0 12 * * * *)":        "must be ?",
		"cron(0 12 ? * ? *)":        "both ?",
		"cron(60 12 * * ? *)":       "minutes",
		"cron(0 12 L * ? *)":        "not supported",
		"cron(0 12 15W * ? *)":      "not supported",
		"cron(0 12 ? * 6#3 *)":      "not supported",
		"cron(0 12 ? JUL WED *)":    "", // names with L and W are fine
		"cron(0 10-8 * * ? *)":      "backwards",
		"cron(0/0 12 * * ? *)":      "step",
		"cron(0 ? * * ? *)":         "only for",
		"cron(0 12 * * ? 1969)":     "1970",
		"cron(0 12 * FOO ? *)":      "JAN-DEC",
		"cron(*/15 * * * ? *)":      "",
		"cron(0 12 1,15 1-6/2 ? *)": "",
	}
	for expr, want := range cases {
		_, err := Parse(expr, "")
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", expr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one saying %q", expr, err, want)
		}
	}
	if _, err := Parse("rate(5 minutes)", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "time zone") {
		t.Errorf("bad zone: %v", err)
	}
}
