package scripttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// exitCode is the program `exitcode FILE CMD ARGS...`: it runs CMD with
// its standard streams, passes SIGINT and SIGTERM on to it, and writes
// "exit N" to FILE when it ends, N its exit code (or "signal S"), then
// exits the same way. A script can check the code of a command it ran in
// the background and interrupted, which testscript's wait does not show.
func exitCode() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: exitcode FILE CMD ARGS...")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "exitcode:", err)
		os.Exit(127)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	code, what := 0, "exit 0"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		what = fmt.Sprintf("exit %d", code)
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			code, what = 128+int(st.Signal()), "signal "+st.Signal().String()
		}
	} else if err != nil {
		code, what = 127, err.Error()
	}
	_ = os.WriteFile(os.Args[1], []byte(what+"\n"), 0o644)
	os.Exit(code)
}
