package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestIncidentContentIsNotCached: every answer under /api/v1, JSON, CSV
// and STIX alike, and problems too, tells caches not to keep it.
func TestIncidentContentIsNotCached(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Cached?", "TLP:AMBER")
	w.add(t, "a-reporter", inc.ID, map[string]any{"type": "ipv4", "value": "192.0.2.30"}, http.StatusCreated)
	base := "/api/v1/incidents/" + inc.ID
	for _, path := range []string{
		"/api/v1/me", "/api/v1/incidents", "/api/v1/incidents.csv", base, base + "/timeline", base + "/observables",
		base + "/export", base + "/export?format=stix", "/api/v1/observables?value=192.0.2.30", base + "/comments",
		"/api/v1/incidents/" + testapp.NewID(),
	} {
		r := w.as("a-reporter").Request(http.MethodGet, path, nil)
		require.Less(t, r.Status, 500, "%s: %s", path, r.Body)
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"), "%s (%d)", path, r.Status)
	}
}
