// Package apperr defines the application's error codes. Domain code returns
// these; the HTTP layer maps each code to a status in exactly one place.
package apperr

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Code classifies an application error.
type Code string

// The error codes. Each maps to one HTTP status in the API's error handler.
const (
	Malformed    Code = "malformed"    // the request cannot be read: a body that is not one well-formed JSON value (400)
	Invalid      Code = "invalid"      // the input breaks a rule (422)
	NotFound     Code = "not_found"    // absent, or not visible to the caller (404)
	Conflict     Code = "conflict"     // the request conflicts with the current state (409)
	Precondition Code = "precondition" // a version check failed (412)
	Unauthorized Code = "unauthorized" // no valid credentials (401)
	Forbidden    Code = "forbidden"    // credentials valid, action not allowed (403)
	RateLimited  Code = "rate_limited" // too many requests (429)
	Unavailable  Code = "unavailable"  // a dependency is down (503)
	// InsufficientStorage: there is no room to store what was sent (the
	// evidence folder's disk is full) (507).
	InsufficientStorage Code = "insufficient_storage"
	Internal            Code = "internal" // a bug or an unexpected failure (500)
)

// FieldError names one field that broke one rule.
type FieldError struct {
	Field   string // the field's name as the client sent it, dotted for nesting
	Rule    string // a short machine-readable rule name, e.g. "required", "max_length"
	Message string // a sentence for people
}

// Error is an application error with a code, a message safe to show to the
// caller, optional field errors and optional details.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Details carries extra members for the problem document (for example the
	// allowed transitions of a 409, or the current version of a 412).
	Details map[string]any
	// Err is the underlying cause; never shown to the caller.
	Err error
	// RetryAfter, on a RateLimited error, is how long the caller should
	// wait before trying again (the HTTP Retry-After header).
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an internal error around err with context; its message is not
// shown to callers.
func Wrap(err error, context string) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", context, err)
	}
	return &Error{Code: Internal, Message: context, Err: err}
}

// CodeOf returns the code of err: the code of the first *Error in its chain,
// or Internal.
func CodeOf(err error) Code {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var ae *Error
	ok := errors.As(err, &ae)
	return ae, ok
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

// Fields collects field errors and turns them into one Invalid error.
type Fields []FieldError

// Add records that field broke rule.
func (fs *Fields) Add(field, rule, format string, args ...any) {
	*fs = append(*fs, FieldError{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no field failed, else an Invalid error listing them.
func (fs Fields) Err() error {
	if len(fs) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: fs}
}

// Text checks a free-text field: valid UTF-8, no NUL characters (which
// PostgreSQL refuses), and at most max characters (0: no limit). It records
// what is wrong and reports whether the value is acceptable.
func (fs *Fields) Text(field, value string, max int) bool {
	if !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		fs.Add(field, "characters", "%s must be valid UTF-8 without NUL characters", field)
		return false
	}
	if max > 0 && utf8.RuneCountInString(value) > max {
		fs.Add(field, "max_length", "%s must be at most %d characters", field, max)
		return false
	}
	return true
}
