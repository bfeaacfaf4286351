//go:build cgo

package sandbox

// The jail's resident init is C (reaper.c) where cgo is: see becomeReaper.

/*
#cgo CFLAGS: -O2 -Wall -Wextra
#include <sys/types.h>
int rj_catch(void);
void rj_forward_to(pid_t child);
int rj_exec(pid_t child, int status_fd);
*/
import "C"

import (
	"runtime"
	"syscall"
)

// catchSignals catches the signals an init forwards (SIGTERM, SIGINT,
// SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) with reaper.c's handler, which holds
// them until the function is known and forwards them from then on; the
// returned function names the function. It replaces the Go runtime's
// handler for them: this process is a jail's init and nothing else.
func catchSignals() (forward func(pid int), err error) {
	if e := C.rj_catch(); e != 0 {
		return nil, syscall.Errno(e)
	}
	return func(pid int) { C.rj_forward_to(C.pid_t(pid)) }, nil
}

// becomeReaper replaces this Go init by reaper.c's, which waits for child
// and reports its end on statusFD as runJail does. It returns only when it
// could not (the Go init then carries on).
func becomeReaper(child, statusFD int) error {
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(statusFD), syscall.F_SETFD, 0); e != 0 {
		return e
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return syscall.Errno(C.rj_exec(C.pid_t(child), C.int(statusFD)))
}
