package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMalformedJSONIs400: a body that is not one well-formed JSON value is
// a 400 (urn:certdesk:problem:malformed) naming "body"; a well-formed body
// that breaks a rule stays a 422. The body is checked first, so a caller
// who may not see the incident gets the same answer.
func TestMalformedJSONIs400(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Malformed bodies", "TLP:AMBER")
	base := "/api/v1/incidents/" + inc.ID
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field, rule              string
	}{
		{"cut short", http.MethodPost, "/api/v1/incidents", `{"title": "x",`, 400, "body", "json"},
		{"syntax error", http.MethodPost, "/api/v1/incidents", `{"title" "x"}`, 400, "body", "json"},
		{"empty body", http.MethodPost, "/api/v1/incidents", ``, 400, "body", "required"},
		{"two values", http.MethodPost, "/api/v1/incidents", `{"title":"a"} {}`, 400, "body", "single_value"},
		{"merge patch cut short", http.MethodPatch, base, `{"title":`, 400, "body", "json"},
		{"comment cut short", http.MethodPost, base + "/comments", `{"body": `, 400, "body", "json"},
		{"observable syntax error", http.MethodPost, base + "/observables", `{"type": ipv4}`, 400, "body", "json"},
		{"not an object", http.MethodPost, "/api/v1/incidents", `[1,2]`, 422, "body", "type"},
		{"wrong type", http.MethodPost, "/api/v1/incidents", `{"title":42}`, 422, "title", "type"},
		{"unknown field", http.MethodPost, base + "/comments", `{"body":"x","author":"me"}`, 422, "author", "unknown_field"},
		// encoding/json matches names ignoring case; the API does not
		// (found by FuzzJSONWriteRoutes: "severitY" was taken for severity).
		{"name in another case", http.MethodPost, "/api/v1/incidents", `{"title":"x","severitY":"high"}`, 422, "severitY", "unknown_field"},
		{"nested name in another case", http.MethodPost, "/api/v1/incidents", `{"title":"x","affected_assets":[{"name":"a","Kind":"server"}]}`, 422, "affected_assets[0].Kind", "unknown_field"},
		{"comment name in another case", http.MethodPost, base + "/comments", `{"Body":"x"}`, 422, "Body", "unknown_field"},
		{"merge patch not an object", http.MethodPatch, base, `"x"`, 422, "body", "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, user := range []string{"a-reporter", "b-reporter"} {
				hdr := []string{"Content-Type", "application/json"}
				if tc.method == http.MethodPatch {
					hdr[1] = "application/merge-patch+json"
				}
				r := w.as(user).Request(tc.method, tc.path, tc.body, hdr...)
				require.Equal(t, tc.status, r.Status, "%s: %s", user, r.Body)
				p := r.Map(t)
				if tc.status == http.StatusBadRequest {
					require.Equal(t, "urn:certdesk:problem:malformed", p["type"])
				}
				e := p["errors"].([]any)[0].(map[string]any)
				require.Equal(t, tc.field, e["field"], "%s", r.Body)
				require.Equal(t, tc.rule, e["rule"], "%s", r.Body)
			}
		})
	}
	require.Len(t, w.list(t, "a-reporter", inc.ID), 0)
}
