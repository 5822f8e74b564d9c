package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/httpapi"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestUnknownQueryParametersRefused: like unknown body fields, a query
// parameter a route does not define is a 422 naming it (rule
// unknown_parameter), on every /api/v1 route; the parameters each route
// accepts are exactly those docs/openapi.yaml lists.
func TestUnknownQueryParametersRefused(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Acknowledged or not", "TLP:AMBER")

	unknown := func(t *testing.T, r *testapp.Response, names ...string) {
		t.Helper()
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		var got []string
		for _, e := range r.Map(t)["errors"].([]any) {
			e := e.(map[string]any)
			require.Equal(t, "unknown_parameter", e["rule"], "%s", r.Body)
			got = append(got, e["field"].(string))
		}
		require.Equal(t, names, got)
	}
	// The review's example: a filter that does not exist (a misspelt one) is not ignored.
	unknown(t, w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents?acknowledgd=false", nil), "acknowledgd")
	unknown(t, w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents.csv?status=open&zeta=1&alpha=2", nil), "alpha", "zeta")
	unknown(t, w.as("a-reporter").Request(http.MethodGet, "/api/v1/observables?value=192.0.2.1&typ=ipv4", nil), "typ")
	unknown(t, w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=stix&pretty=1", nil), "pretty")
	require.Equal(t, http.StatusUnauthorized, w.as("").Request(http.MethodGet, "/api/v1/incidents?acknowledgd=false", nil).Status,
		"authentication comes first")
	require.Equal(t, http.StatusOK, w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents?status=open&limit=5", nil).Status)

	spec, _ := testapp.Spec(t)
	routes := 0
	for _, rt := range w.h.App.HTTP.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || strings.HasSuffix(rt.Path, "*") || rt.Path == "/api/v1/openapi.yaml" {
			continue
		}
		routes++
		specPath := regexp.MustCompile(`:(\w+)`).ReplaceAllString(rt.Path, "{$1}")
		item := spec.Paths.Find(specPath)
		require.NotNil(t, item, "%s %s is not in docs/openapi.yaml", rt.Method, rt.Path)
		op := item.GetOperation(rt.Method)
		require.NotNil(t, op, "%s %s is not in docs/openapi.yaml", rt.Method, rt.Path)
		var documented []string
		for _, p := range append(item.Parameters, op.Parameters...) {
			if p.Value.In == "query" {
				documented = append(documented, p.Value.Name)
			}
		}
		sort.Strings(documented)
		accepted := httpapi.QueryParameters(rt.Method, rt.Path)
		require.Equal(t, documented, accepted, "%s %s: the query parameters it accepts are the documented ones", rt.Method, rt.Path)

		path := regexp.MustCompile(`:\w+`).ReplaceAllString(rt.Path, testapp.NewID())
		r := w.as("a-reporter").Request(rt.Method, path+"?acknowledgd=false", nil)
		unknown(t, r, "acknowledgd")
		if len(documented) > 0 {
			q := url.Values{}
			for _, name := range documented {
				q.Set(name, "")
			}
			r := w.as("a-reporter").Request(rt.Method, path+"?"+q.Encode(), nil)
			if r.Status == http.StatusUnprocessableEntity {
				for _, e := range r.Map(t)["errors"].([]any) {
					require.NotEqual(t, "unknown_parameter", e.(map[string]any)["rule"], "%s %s: %s", rt.Method, path, r.Body)
				}
			}
		}
	}
	require.Greater(t, routes, 50, "every /api/v1 route was tried")
	require.True(t, slices.Contains(httpapi.QueryParameters(http.MethodGet, "/api/v1/incidents"), "status"))
}
