package function

import (
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/schedule"
)

// validTriggers checks the schedule, its zone and the failure
// destination.
func (c Config) validTriggers() error {
	if c.ScheduleTZ != "" {
		if _, err := schedule.Location(c.ScheduleTZ); err != nil {
			return fault.Usagef("--schedule-tz: %v", err)
		}
	}
	if c.Schedule != "" {
		if _, err := schedule.Parse(c.Schedule, c.ScheduleTZ); err != nil {
			return fault.Usagef("--%v", err)
		}
	}
	if c.OnFailure != "" {
		if err := ValidateName(c.OnFailure); err != nil {
			return fault.Usagef("--on-failure: %v", err)
		}
	}
	return nil
}

// ParseSchedule reads a function's schedule ("" for none: ok is false).
func (c Config) ParseSchedule() (s schedule.Schedule, ok bool, err error) {
	if c.Schedule == "" {
		return schedule.Schedule{}, false, nil
	}
	s, err = schedule.Parse(c.Schedule, c.ScheduleTZ)
	return s, err == nil, err
}
