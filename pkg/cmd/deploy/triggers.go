package deploy

import (
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/schedule"
)

// checkTriggers checks --schedule, --schedule-tz and --on-failure before
// anything is read or sent, each named by its flag.
func checkTriggers(cfg function.Config) error {
	if cfg.ScheduleTZ != "" {
		if _, err := schedule.Location(cfg.ScheduleTZ); err != nil {
			return bad("schedule-tz", fault.Usagef("--schedule-tz: %v", err))
		}
	}
	if cfg.Schedule != "" {
		if _, err := schedule.Parse(cfg.Schedule, cfg.ScheduleTZ); err != nil {
			return bad("schedule", fault.Usagef("--%v", err))
		}
	}
	if cfg.OnFailure != "" {
		if err := function.ValidateName(cfg.OnFailure); err != nil {
			return bad("on-failure", fault.Usagef("--on-failure: %v", err))
		}
	}
	return nil
}
