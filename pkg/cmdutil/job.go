package cmdutil

import (
	"bytes"
	"fmt"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/iostreams"
	"github.com/faasdev/faas/pkg/store"
)

// WriteJobResult prints an ended job as `faas invoke` does: the result
// alone on stdout (or the whole record with -o json), and exits with the
// job's code.
func WriteJobResult(io *iostreams.IOStreams, job store.Job, output string) error {
	if output == OutputJSON {
		if err := WriteJSON(io.Out, api.NewJob(job, true)); err != nil {
			return err
		}
	} else if job.Status == store.StatusCompleted {
		if _, err := io.Out.Write(job.Result); err != nil {
			return err
		}
		if io.IsStdoutTTY() && len(job.Result) > 0 && !bytes.HasSuffix(job.Result, []byte("\n")) {
			fmt.Fprintln(io.Out)
		}
	}
	return JobExit(io, job)
}

// JobExit turns a finished job into the command's exit, explaining
// failures on stderr.
func JobExit(io *iostreams.IOStreams, job store.Job) error {
	if job.Status == store.StatusCompleted {
		return nil
	}
	code := ExitFunction
	switch job.Cause {
	case faastype.CausePlatform, faastype.CauseLost:
		// A lost job's process died: the platform's failure too.
		code = ExitPlatform
	case faastype.CauseInterrupted:
		code = ExitInterrupted
	case faastype.CauseFunction:
		if job.Status == store.StatusTimeout {
			code = ExitTimeout
		}
	}
	st := io.Styles()
	fmt.Fprintf(io.ErrOut, "%s function %s %s: %s; see `faas jobs show %s`\n",
		st.Error.Render("error:"), job.Function, job.Status, job.Error, job.ID)
	return &ExitError{Code: code}
}
