package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// constraintFields maps constraint names to the API field they concern.
var constraintFields = map[string]apperr.FieldError{
	"organizations_slug_key":   {Field: "slug", Rule: "unique", Message: "an organisation with this slug exists"},
	"organizations_slug_check": {Field: "slug", Rule: "format", Message: "slug must be lower-case letters, digits and dashes"},
}

// translate turns database errors into application errors. Unique and check
// violations of known constraints become field errors; a cancelled context
// stays itself; everything else is internal.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.New(apperr.NotFound, "%s: not found", what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if fe, ok := constraintFields[pe.ConstraintName]; ok {
			code := apperr.Invalid
			if fe.Rule == "unique" {
				code = apperr.Conflict
			}
			return &apperr.Error{Code: code, Message: fe.Message, Fields: []apperr.FieldError{fe}, Err: err}
		}
		switch {
		case pe.Code == "22021" || pe.Code == "22P05":
			// NUL characters or invalid UTF-8 in text: the client's input.
			return &apperr.Error{Code: apperr.Invalid, Message: "text must be valid UTF-8 without NUL characters",
				Fields: []apperr.FieldError{{Field: "body", Rule: "characters", Message: "text must be valid UTF-8 without NUL characters"}}, Err: err}
		case pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout"):
			return &apperr.Error{Code: apperr.Unavailable, Message: "the database took too long", Err: err}
		}
	}
	if Unavailable(err) {
		return UnavailableError(err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return apperr.Wrap(err, what)
}

// RetryAfter is the wait a client is told (Retry-After) when the database
// is unavailable: long enough for a restart, short enough that a report
// filed during an outage goes through soon after it ends.
const RetryAfter = 5 * time.Second

// UnavailableError wraps err, a database-unavailable error, as the
// apperr.Unavailable error (503 with Retry-After) that callers are shown.
func UnavailableError(err error) *apperr.Error {
	return &apperr.Error{Code: apperr.Unavailable, Message: "the database is unavailable; try again shortly",
		Err: err, RetryAfter: RetryAfter}
}

// Unavailable reports whether err means that the database cannot be
// reached or is not serving now, as opposed to refusing a statement: the
// server refused or dropped the connection (connection refused or reset,
// an unexpected end of the stream, a connection the driver had to
// close), it is shutting down or starting up (SQLSTATE 57P01
// admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), a
// connection exception (class 08) or too many connections (53300), or
// connecting failed (also when connecting ran out of time). Any other
// end of a context (a request's time limit) is not among them: callers
// map it themselves. It is what the HTTP error
// handler uses to answer 503 instead of 500 for errors that were not
// translated on their way up.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// Connecting failed, whatever the server said (it may refuse
		// connections to the database: SQLSTATE 55000), also when it ran
		// out of time.
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	var oe *net.OpError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &oe), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, pgconn.ErrConnClosed):
		return true
	}
	return false
}

// isConstraint reports whether err is a PostgreSQL error on the named constraint.
func isConstraint(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.ConstraintName == constraint
}

// textArray passes a []string as a PostgreSQL text[] (GORM would expand a
// plain slice argument into a list of values).
type textArray []string

// Value implements driver.Valuer with an array literal: every element
// double-quoted, backslashes and quotes escaped.
func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
