package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// bindJSON decodes the JSON request body into v strictly: the content type
// must be JSON (else 415), there must be exactly one well-formed JSON
// value (else apperr.Malformed, 400), and unknown fields and values of the
// wrong type are refused (apperr.Invalid, 422). Every failure names the
// field where it can.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return malformedBody("single_value", "the body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformedBody("single_value", "the body must hold exactly one JSON object")
	}
	return nil
}

// decodeError turns a JSON decoding error into the answer: a body that is
// not well-formed JSON is apperr.Malformed (400); a well-formed one that
// does not fit the request (a wrong type, an unknown field) is
// apperr.Invalid (422).
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, io.EOF):
		return malformedBody("required", "the request body is empty")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return malformedBody("json", err.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalidBody(field, "type", fmt.Sprintf("%s must be a JSON %s", field, jsonKind(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidBody(name, "unknown_field", fmt.Sprintf("%s is not a field of this request", name))
	}
	return invalidBody("body", "json", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// malformedBody is a body that is not one well-formed JSON value.
func malformedBody(rule, msg string) error {
	return &apperr.Error{Code: apperr.Malformed, Message: "the body is not well-formed JSON",
		Fields: []apperr.FieldError{{Field: "body", Rule: rule, Message: msg}}}
}

func invalidBody(field, rule, msg string) error {
	return &apperr.Error{Code: apperr.Invalid, Message: "the request body is invalid",
		Fields: []apperr.FieldError{{Field: field, Rule: rule, Message: msg}}}
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}
