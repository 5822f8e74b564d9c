package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

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
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P03":
			return &apperr.Error{Code: apperr.Unavailable, Message: "the database is unavailable", Err: err}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return apperr.Wrap(err, what)
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
