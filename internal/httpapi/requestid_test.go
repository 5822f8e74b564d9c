package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

var requestIDShape = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// TestRequestIDFromClientIsChecked: a client's X-Request-Id is used only
// when it is a short token; anything else is replaced by one of
// certdesk's, in the answer and in the problem document.
func TestRequestIDFromClientIsChecked(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	missing := "/api/v1/incidents/" + testapp.NewID()
	for _, id := range []string{"client-req.42_X", strings.Repeat("a", 64)} {
		r := w.as("a-reporter").Request(http.MethodGet, missing, nil, "X-Request-Id", id)
		require.Equal(t, id, r.Header.Get("X-Request-Id"))
		require.Equal(t, id, r.Map(t)["request_id"])
	}
	for _, id := range []string{strings.Repeat("a", 65), "two words", "<script>alert(1)</script>", "caf\u00e9", `a"b`, "a/b", "a\tb"} {
		r := w.as("a-reporter").Request(http.MethodGet, missing, nil, "X-Request-Id", id)
		got := r.Header.Get("X-Request-Id")
		require.NotEqual(t, id, got)
		require.Regexp(t, requestIDShape, got, "certdesk makes its own for %q", id)
		require.Equal(t, got, r.Map(t)["request_id"])
	}
	r := w.as("a-reporter").Request(http.MethodGet, "/api/v1/me", nil)
	require.Regexp(t, requestIDShape, r.Header.Get("X-Request-Id"), "and one when the client sends none")
}
