//go:build !cgo

package sandbox

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// catchSignals catches the signals an init forwards, from before the
// function exists; the returned function names the function, which gets
// them from then on.
func catchSignals() (forward func(pid int), err error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	return func(pid int) {
		go func() {
			for s := range sigs {
				_ = syscall.Kill(pid, s.(syscall.Signal))
			}
		}()
	}, nil
}

// becomeReaper: a build without cgo has no C reaper; the Go init stays.
func becomeReaper(child, statusFD int) error {
	return errors.New("no C reaper in a build without cgo")
}
