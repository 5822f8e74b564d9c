package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// FuzzIfMatchVersion: any header gives a version, nil, or a field error on
// If-Match, never a panic; a version reads back from the ETag we send.
func FuzzIfMatchVersion(f *testing.F) {
	for _, s := range []string{``, `*`, `"1"`, `W/"12"`, `7`, `"1", "2"`, `"`, `W/`, `"-1"`, `"0"`, `"9223372036854775808"`, ` "3" `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		v, err := ifMatchVersion(h)
		if err != nil {
			ae, ok := apperr.As(err)
			require.True(t, ok)
			require.Equal(t, apperr.Invalid, ae.Code)
			require.Equal(t, "If-Match", ae.Fields[0].Field)
			return
		}
		if v == nil {
			require.Contains(t, []string{"", "*"}, strings.TrimSpace(h))
			return
		}
		require.Positive(t, *v)
		again, err := ifMatchVersion(etag(*v))
		require.NoError(t, err)
		require.Equal(t, *v, *again)
	})
}

// FuzzTaskBodies: any body of a task POST or PATCH decodes, or is a 4xx
// naming what is wrong, never a panic or an internal error.
func FuzzTaskBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x","assignee":null,"due_at":"2026-01-01T00:00:00Z"}`, `{"due_at":5}`,
		`{"assignee":{}}`, `{"position":1e40}`, `{"status":null}`, `[`, `{"title":"\u0000"}`, `{"due_at":""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var create createTaskRequest
		var patch patchTaskRequest
		for _, v := range []any{&create, &patch} {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set(echo.HeaderContentType, "application/json")
			err := bindJSON(echo.New().NewContext(req, httptest.NewRecorder()), v)
			if err == nil {
				continue
			}
			var he *echo.HTTPError
			if errors.As(err, &he) {
				require.Less(t, he.Code, 500)
				continue
			}
			ae, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			require.Contains(t, []apperr.Code{apperr.Invalid, apperr.Malformed}, ae.Code)
			require.NotEmpty(t, ae.Fields)
		}
		for _, due := range []*string{create.DueAt, &patch.DueAt.Value} {
			if due != nil && *due != "" {
				if _, err := parseDueAt(*due); err != nil {
					require.Equal(t, "due_at", errField(err))
				}
			}
		}
	})
}

func errField(err error) string {
	if ae, ok := apperr.As(err); ok && len(ae.Fields) > 0 {
		return ae.Fields[0].Field
	}
	return ""
}
