package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHostileTextNeverFails500: NUL characters and invalid UTF-8, which
// PostgreSQL refuses in text, in any path segment, query parameter or text
// field are the client's error (4xx), never a 500, and nothing is stored.
func TestHostileTextNeverFails500(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "target"})
	id := "/api/v1/incidents/" + inc.ID
	rs := w.h.As(w.responder)
	// Invalid UTF-8 cannot arrive in a JSON body (encoders replace it with
	// U+FFFD); it can in paths and queries, below.
	for _, bad := range []string{"a\u0000b", "\u0000"} {
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/api/v1/incidents", map[string]any{"title": bad}},
			{http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "description": bad}},
			{http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "affected_assets": []map[string]any{{"name": bad}}}},
			{http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "tags": []string{bad}}},
			{http.MethodPost, id + "/close", map[string]any{"resolution": bad}},
			{http.MethodPost, id + "/reopen", map[string]any{"reason": bad}},
			{http.MethodPost, id + "/transitions", map[string]any{"to": "recovery", "reason": bad}},
			{http.MethodPost, id + "/timeline", map[string]any{"summary": bad}},
			{http.MethodPost, id + "/deadlines/gdpr_notification/met", map[string]any{"reference": bad}},
			{http.MethodPost, id + "/shares", map[string]any{"org": bad}},
			{http.MethodPost, id + "/shares", map[string]any{"org": "sibling", "note": bad}},
			{http.MethodPost, id + "/participants", map[string]any{"email": bad}},
			{http.MethodPost, id + "/comments", map[string]any{"body": bad}},
			{http.MethodPost, id + "/tasks", map[string]any{"title": bad}},
			{http.MethodPost, id + "/observables", map[string]any{"type": "domain", "value": bad}},
			{http.MethodPost, "/api/v1/tokens", map[string]any{"name": bad}},
			{http.MethodPost, "/api/v1/organizations", map[string]any{"slug": "x", "name": bad, "kind": "operator", "parent": "region"}},
		} {
			r := rs.Request(tc.method, tc.path, tc.body)
			require.Less(t, r.Status, 500, "%s %s %v: %s", tc.method, tc.path, tc.body, r.Body)
			require.GreaterOrEqual(t, r.Status, 400, "%s %s %v: %s", tc.method, tc.path, tc.body, r.Body)
		}
		for _, body := range []string{`{"title":"` + jsonEscape(bad) + `"}`, `{"assignee":"` + jsonEscape(bad) + `"}`} {
			r := rs.Request(http.MethodPatch, id, body, "Content-Type", "application/merge-patch+json")
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", body, r.Body)
		}
	}
	for _, path := range []string{
		"/api/v1/incidents/a%00b", "/api/v1/incidents/%ff/timeline", "/api/v1/incidents/a%00b/close",
		"/api/v1/incidents?q=%00", "/api/v1/incidents?tag=%ff", "/api/v1/incidents?reporting_org=%00",
		"/api/v1/incidents?assignee=%ff", "/api/v1/incidents.csv?q=%ff", id + "/timeline?kind=%00",
		"/api/v1/organizations/%00", "/api/v1/organizations/%ff/constituency",
	} {
		method := http.MethodGet
		var body any
		if path == "/api/v1/incidents/a%00b/close" {
			method, body = http.MethodPost, map[string]any{"resolution": "x"}
		}
		r := rs.Request(method, path, body)
		require.Less(t, r.Status, 500, "%s: %s", path, r.Body) // a filter may also normalise the text and find nothing
		if !strings.Contains(path, "?") {
			require.Equal(t, http.StatusNotFound, r.Status, "%s: no such thing can exist", path)
		}
	}
	r := rs.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x"}, "Idempotency-Key", "cl\u00e9")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	var tl timelineBody
	rs.Request(http.MethodGet, id+"/timeline", nil).JSON(t, &tl)
	require.Len(t, tl.Events, 2, "nothing was recorded by the refused requests (created, routed)")
}

func jsonEscape(s string) string {
	out := ""
	for _, b := range []byte(s) {
		if b == 0 {
			out += `\u0000`
		} else {
			out += string(rune(b))
		}
	}
	return out
}
