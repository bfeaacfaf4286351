package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/proc"
)

// WatcherStatus is the watcher's state file, $FAAS_HOME/run/autoscale.json.
type WatcherStatus struct {
	Running   bool      `json:"running"`
	PID       int       `json:"pid"`
	PIDStart  int64     `json:"pid_start"`
	StartedAt time.Time `json:"started_at"`
	LastTick  time.Time `json:"last_tick"`
	Ticks     int64     `json:"ticks"`
	Tick      string    `json:"tick"`
	LastError string    `json:"last_error"`
}

// ReadWatcher returns the watcher's status, recomputing whether it runs.
func ReadWatcher(home string) WatcherStatus {
	var st WatcherStatus
	if faashome.ReadJSON(faashome.WatcherFile(home), &st) != nil {
		return WatcherStatus{}
	}
	st.Running = proc.Alive(st.PID, st.PIDStart)
	return st
}

// StartWatcher detaches `faas autoscale run`, refusing a second watcher.
func StartWatcher(home string) (int, error) {
	if st := ReadWatcher(home); st.Running {
		return 0, fault.WithHint(fault.Usagef("the autoscale watcher already runs (pid %d since %s)", st.PID, st.StartedAt.Format(time.RFC3339)),
			"stop it with `faas autoscale stop`")
	}
	pid, err := faashome.Detach(home, faashome.WatcherLog(home), "autoscale", "run")
	if err != nil {
		return 0, fault.Platformf("start the watcher: %w", err)
	}
	// Wait until it has written its status, so that status and a second
	// start see it.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := ReadWatcher(home); st.Running && st.PID == pid {
			return pid, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return pid, fault.WithHint(fault.Platformf("the watcher did not start"), "see "+faashome.WatcherLog(home))
}

// StopWatcher asks the watcher to finish its tick and exit, and waits.
func StopWatcher(home string) (bool, error) {
	st := ReadWatcher(home)
	if !st.Running {
		return false, nil
	}
	if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fault.Platformf("stop the watcher: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for proc.Alive(st.PID, st.PIDStart) {
		if time.Now().After(deadline) {
			return true, fault.Platformf("the watcher (pid %d) did not stop within 2 minutes", st.PID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true, nil
}

// RunWatcher is the watcher's loop, in the foreground, until ctx ends
// (SIGTERM: the tick in progress finishes first).
func (e *Engine) RunWatcher(ctx context.Context, lg *slog.Logger) error {
	lg = lg.With("component", "autoscale")
	if cur := ReadWatcher(e.Home); cur.Running && cur.PID != os.Getpid() {
		return fault.Usagef("the autoscale watcher already runs (pid %d)", cur.PID)
	}
	pid := os.Getpid()
	st := WatcherStatus{PID: pid, PIDStart: proc.SelfStart(), StartedAt: e.Now()}
	settings, tick, err := e.AutoscaleSettings(ctx)
	if err != nil {
		return err
	}
	st.Tick = tick.String()
	if err := faashome.WriteJSON(faashome.WatcherFile(e.Home), st); err != nil {
		return fault.Platformf("watcher status: %w", err)
	}
	lg.Info("started", "pid", pid, "tick", tick.String())
	// Jobs older than jobs.retention are pruned beside the ticks, in small
	// batches; bills keep their totals.
	go e.RunRetention(ctx, func(format string, args ...any) { lg.Info(fmt.Sprintf(format, args...)) })
	var prev *Snapshot
	for {
		tctx := context.WithoutCancel(ctx) // a tick is never cut short
		var res TickResult
		var err error
		if !clusterTicking(e.Home) {
			res, err = e.AutoscaleTick(tctx, settings, prev)
		} // else a clustered server of this home ticks, seeing its workers
		st.Ticks++
		st.LastTick = e.Now()
		st.LastError = ""
		if err != nil {
			st.LastError = err.Error()
			lg.Error("tick failed", "error", err.Error())
		} else {
			prev = &res.Snapshot
			for _, ev := range res.Events {
				lg.Info("scale event", "kind", ev.Kind, "function", ev.Function, "instance", ev.Instance, "reason", ev.Reason, "outcome", ev.Outcome)
			}
			if res.Lost > 0 {
				lg.Warn("jobs marked lost", "count", res.Lost)
			}
		}
		_ = faashome.WriteJSON(faashome.WatcherFile(e.Home), st)
		select {
		case <-ctx.Done():
			lg.Info("stopped", "ticks", st.Ticks)
			return nil
		case <-time.After(tick):
		}
		if s, t, err := e.AutoscaleSettings(ctx); err == nil {
			settings, tick = s, t
		}
	}
}

// String describes the status.
func (s WatcherStatus) String() string {
	if !s.Running {
		return "not running"
	}
	return fmt.Sprintf("running (pid %d) since %s, %d ticks, last %s", s.PID, s.StartedAt.Format(time.RFC3339), s.Ticks, s.LastTick.Format(time.RFC3339))
}
