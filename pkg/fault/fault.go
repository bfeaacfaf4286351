// Package fault classifies errors by who must act on them, so that the
// command line can map them to the documented exit codes in one place.
package fault

import (
	"errors"
	"fmt"
)

// Kind says whose fault an error is.
type Kind int

const (
	// Platform is a failure of faas or what it runs on: the store, a
	// provider, the host. It is the kind of any unclassified error.
	Platform Kind = iota
	// Usage is bad input from the caller: flags, names, files, values.
	Usage
	// NotFound is a function, version or job that does not exist.
	NotFound
	// Conflict is a request at odds with the state: a name another owner
	// holds (exit 2, HTTP 409).
	Conflict
	// Unauthorized is a request to `faas serve` without a valid token
	// (exit 2, HTTP 401).
	Unauthorized
	// Busy is a request refused for now: an owner at its concurrency limit
	// (exit 3, HTTP 429).
	Busy
	// TooLarge is a request body over the server's limit (exit 2, HTTP 413).
	TooLarge
	// Function is a failure of the user's own function outside an
	// invocation: its dependencies would not build (exit 1, HTTP 422).
	Function
)

// Error carries a Kind and, optionally, what the user can do next.
type Error struct {
	Kind Kind
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// Usagef returns a usage error (exit 2).
func Usagef(format string, args ...any) error { return newf(Usage, format, args...) }

// Conflictf returns a conflict error (exit 2).
func Conflictf(format string, args ...any) error { return newf(Conflict, format, args...) }

// Newf returns an error of kind k.
func Newf(k Kind, format string, args ...any) error { return newf(k, format, args...) }

// NotFoundf returns a not-found error (exit 4).
func NotFoundf(format string, args ...any) error { return newf(NotFound, format, args...) }

// Functionf returns an error of the user's function (exit 1).
func Functionf(format string, args ...any) error { return newf(Function, format, args...) }

// Platformf returns a platform error (exit 3).
func Platformf(format string, args ...any) error { return newf(Platform, format, args...) }

// WithHint attaches advice to err, keeping its kind.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return &Error{Kind: fe.Kind, Err: err, Hint: hint}
	}
	return &Error{Kind: Platform, Err: err, Hint: hint}
}

// KindOf reports the kind of err; unclassified errors are Platform.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Platform
}

// HintOf returns the outermost hint attached to err, if any.
func HintOf(err error) string {
	for err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			return ""
		}
		if fe.Hint != "" {
			return fe.Hint
		}
		err = fe.Err
	}
	return ""
}
