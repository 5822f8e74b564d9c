package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestRequestIDInLog: the request log records the ID certdesk answered
// with, never a refused client value.
func TestRequestIDInLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	e := echo.New()
	e.Use(requestID, requestLogger(log))
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, sent := range []string{"ok-id.1", "bad id\u00e9", strings.Repeat("x", 65)} {
		buf.Reset()
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set(echo.HeaderXRequestID, sent)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		answered := rec.Header().Get(echo.HeaderXRequestID)
		var line struct {
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line), "%s", buf.String())
		require.Equal(t, answered, line.RequestID)
		if sent == "ok-id.1" {
			require.Equal(t, sent, answered)
		} else {
			require.NotEqual(t, sent, answered)
			require.NotContains(t, buf.String(), sent)
		}
	}
}
