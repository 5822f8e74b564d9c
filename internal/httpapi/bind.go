package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
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
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
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
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return decodeError(err)
	}
	if name, bad := inexactName(doc, reflect.TypeOf(v), ""); bad {
		return invalidBody(name, "unknown_field", fmt.Sprintf("%s is not a field of this request (names are case-sensitive)", name))
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// inexactName returns the first member of doc (in name order, at any
// depth) that is not exactly the name of a field of t. encoding/json
// matches names ignoring case, so it takes "severitY" or "TLP" for
// "severity" and "tlp"; the API and docs/openapi.yaml do not (found by
// FuzzJSONWriteRoutes). Types that decode themselves are not looked into.
func inexactName(doc any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "", false
	}
	switch d := doc.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			return "", false
		}
		var fields map[string]reflect.Type
		if t.Kind() == reflect.Struct {
			fields = jsonFields(t, map[string]reflect.Type{})
		}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			name := k
			if path != "" {
				name = path + "." + k
			}
			ft := t
			if t.Kind() == reflect.Map {
				ft = t.Elem()
			} else if ft = fields[k]; ft == nil {
				return name, true
			}
			if n, bad := inexactName(d[k], ft, name); bad {
				return n, true
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return "", false
		}
		for i, e := range d {
			if n, bad := inexactName(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad {
				return n, true
			}
		}
	}
	return "", false
}

// jsonFields adds the JSON names of struct type t's fields to into, with
// their types, as encoding/json sees them (embedded structs included).
func jsonFields(t reflect.Type, into map[string]reflect.Type) map[string]reflect.Type {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, into)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
	return into
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
