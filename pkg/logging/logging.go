// Package logging makes the structured loggers (log/slog) of faas' long-
// running processes: serve, worker, agent, the autoscale watcher and the
// dispatcher. One line per event, JSON with --log-format json (for a log
// shipper), logfmt-like text otherwise; a line about a job carries its id
// as job_id.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Env is the variable that carries the format to the processes a command
// starts (agents, a detached dispatcher or watcher): they inherit it.
const Env = "FAAS_LOG_FORMAT"

// The formats.
const (
	Text = "text"
	JSON = "json"
)

// JobID is the key of a job's id on every line about a job.
const JobID = "job_id"

// Format checks a --log-format value; "" is $FAAS_LOG_FORMAT, else text.
func Format(flag string) (string, error) {
	f := flag
	if f == "" {
		f = os.Getenv(Env)
	}
	switch strings.ToLower(f) {
	case "", Text:
		return Text, nil
	case JSON:
		return JSON, nil
	}
	return "", fmt.Errorf("log format %q: use json or text", f)
}

// New returns a logger that writes format's lines to w (nil: a logger that
// discards). A format it does not know is text.
func New(w io.Writer, format string) *slog.Logger {
	return NewAt(w, format, slog.LevelInfo)
}

// NewAt is New with only the lines at level or above.
func NewAt(w io.Writer, format string, level slog.Level) *slog.Logger {
	if w == nil {
		return Discard()
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == JSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// FromEnv is New with $FAAS_LOG_FORMAT's format.
func FromEnv(w io.Writer) *slog.Logger {
	f, err := Format("")
	if err != nil {
		f = Text
	}
	return New(w, f)
}

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Flag is --log-format's help, one for every command that has it.
const Flag = "log lines as json or text (default $" + Env + ", else text)"
