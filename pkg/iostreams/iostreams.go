// Package iostreams is the one place that knows about terminals: which
// streams are TTYs, whether to use colour, how tables and progress look.
// Commands write data to Out and everything else to ErrOut.
package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// IOStreams are a command's standard streams and what they are.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	color                          bool
	styles                         *Styles
}

func isTTY(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// System returns the process' streams. Colour follows NO_COLOR (any value
// turns it off), CLICOLOR_FORCE (non-zero turns it on even when piped) and
// CLICOLOR=0, and is otherwise on when stdout is a terminal.
func System() *IOStreams { return Files(os.Stdin, os.Stdout, os.Stderr, os.Getenv) }

// Files returns the streams of another process, handed over with its
// environment (getenv), as System does for this one's.
func Files(in, out, errOut *os.File, getenv func(string) string) *IOStreams {
	s := &IOStreams{
		In: in, Out: out, ErrOut: errOut,
		stdinTTY: isTTY(in), stdoutTTY: isTTY(out), stderrTTY: isTTY(errOut),
	}
	s.color = colorWanted(s.stdoutTTY, getenv)
	return s
}

func colorWanted(tty bool, getenv func(string) string) bool {
	switch {
	case getenv("NO_COLOR") != "":
		return false
	case getenv("CLICOLOR_FORCE") != "" && getenv("CLICOLOR_FORCE") != "0":
		return true
	case getenv("CLICOLOR") == "0":
		return false
	}
	return tty
}

// Test returns streams backed by buffers, none of them a TTY.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY makes the test streams claim to be terminals.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
	s.styles = nil
}

// SetColor turns colour on or off.
func (s *IOStreams) SetColor(on bool) { s.color, s.styles = on, nil }

// IsStdinTTY reports whether stdin is a terminal (so not a payload).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// ColorEnabled reports whether output may carry colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// Styles are every style faas uses, built once.
type Styles struct {
	Bold, Muted, Success, Warning, Error, Header lipgloss.Style
}

// Styles returns the styles, plain when colour is off.
func (s *IOStreams) Styles() *Styles {
	if s.styles != nil {
		return s.styles
	}
	// The renderer never sees the terminal: given one, termenv queries it
	// (background colour, cursor position) with escape sequences that
	// land in pipes, pseudo-terminals and scripts. The colour decision is
	// ours anyway.
	r := lipgloss.NewRenderer(io.Discard)
	if s.color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	st := &Styles{
		Bold:    r.NewStyle().Bold(true),
		Muted:   r.NewStyle().Foreground(lipgloss.Color("244")),
		Success: r.NewStyle().Foreground(lipgloss.Color("2")),
		Warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		Error:   r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Header:  r.NewStyle().Bold(true).Underline(true),
	}
	if !s.color {
		plain := r.NewStyle()
		st.Bold, st.Muted, st.Success, st.Warning, st.Error, st.Header = plain, plain, plain, plain, plain, plain
	}
	s.styles = st
	return st
}

// Successf writes a success line ("✓ …") to stderr.
func (s *IOStreams) Successf(format string, a ...any) {
	mark := "✓"
	fmt.Fprintln(s.ErrOut, s.Styles().Success.Render(mark)+" "+fmt.Sprintf(format, a...))
}

// Warnf writes a warning line ("warning: …") to stderr.
func (s *IOStreams) Warnf(format string, a ...any) {
	fmt.Fprintln(s.ErrOut, s.Styles().Warning.Render("warning:")+" "+fmt.Sprintf(format, a...))
}

// Infof writes a line to stderr.
func (s *IOStreams) Infof(format string, a ...any) {
	fmt.Fprintln(s.ErrOut, fmt.Sprintf(format, a...))
}

// Progress shows a spinner with msg on stderr while something slow runs,
// only when stdout and stderr are both terminals, and returns the function
// that stops it. It draws nothing for operations that end within 200 ms.
func (s *IOStreams) Progress(msg string) (stop func()) {
	if !s.stdoutTTY || !s.stderrTTY {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		t := time.NewTicker(80 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(s.ErrOut, "\r%s %s", frames[i%len(frames)], msg)
			select {
			case <-done:
				fmt.Fprint(s.ErrOut, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
