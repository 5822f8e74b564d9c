package httpapi_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

type statsWorld struct {
	h                                      *testapp.Harness
	northRep, southRep, northViewer        string
	nationalViewer, cityViewer, northCoord string
	northViewerEmail                       string
}

func statsSetup(t *testing.T) *statsWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("south", org.RegionalCERT, "national")
	h.Org("n-city", org.LocalAuthority, "north")
	h.Org("s-city", org.LocalAuthority, "south")
	w := &statsWorld{h: h}
	_, w.northRep = h.User("n-city", access.Reporter)
	_, w.cityViewer = h.User("n-city", access.Viewer)
	_, w.southRep = h.User("s-city", access.Reporter)
	u, tok := h.User("north", access.Viewer)
	w.northViewer, w.northViewerEmail = tok, u.Email
	_, w.northCoord = h.User("north", access.Coordinator)
	_, w.nationalViewer = h.User("national", access.Viewer)
	return w
}

func (w *statsWorld) report(t *testing.T, token string, body map[string]any) string {
	t.Helper()
	r := w.h.As(token).Request(http.MethodPost, "/api/v1/incidents", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.Map(t)["id"].(string)
}

func (w *statsWorld) totals(t *testing.T, token string) map[string]any {
	t.Helper()
	r := w.h.As(token).Request(http.MethodGet, "/api/v1/stats/open", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.Map(t)["meta"].(map[string]any)["totals"].(map[string]any)
}

// A regional CERT's figures count its region's incidents and none of
// another region's, and a TLP:RED incident only once its viewer is a named
// participant; the national CERT counts both regions; a city its own.
func TestStatsAcrossOrganisations(t *testing.T) {
	t.Parallel()
	w := statsSetup(t)
	w.report(t, w.northRep, map[string]any{"title": "North one", "severity": "high", "significant": true})
	w.report(t, w.northRep, map[string]any{"title": "North breach", "personal_data_breach": true, "affected_people": 300, "tlp": "TLP:GREEN"})
	red := w.report(t, w.northRep, map[string]any{"title": "North red", "tlp": "TLP:RED", "severity": "critical"})
	w.report(t, w.southRep, map[string]any{"title": "South one", "severity": "low"})

	want := map[string]float64{"north": 2, "national": 3, "city": 2, "south-city": 1}
	require.Equal(t, want["north"], w.totals(t, w.northViewer)["new"], "not south's, not the RED one")
	require.Equal(t, want["national"], w.totals(t, w.nationalViewer)["new"])
	require.Equal(t, want["city"], w.totals(t, w.cityViewer)["new"], "the city's viewer is no participant of its RED report")
	require.Equal(t, want["south-city"], w.totals(t, w.southRep)["new"])
	require.Equal(t, float64(3), w.totals(t, w.northRep)["new"], "the reporter of the RED one is its participant")

	// Named as participant, the regional viewer counts the RED incident too.
	r := w.h.As(w.northRep).Request(http.MethodPost, "/api/v1/incidents/"+red+"/participants", map[string]any{"email": w.northViewerEmail})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	tot := w.totals(t, w.northViewer)
	require.Equal(t, float64(3), tot["new"])
	require.Equal(t, float64(3), tot["open"])

	// Regions: the national CERT sees its two regions, north its city.
	r = w.h.As(w.nationalViewer).Request(http.MethodGet, "/api/v1/stats/regions?period=P7D", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var regions struct {
		Regions []struct {
			Org *string `json:"org"`
			New int64   `json:"new"`
		} `json:"regions"`
	}
	r.JSON(t, &regions)
	got := map[string]int64{}
	for _, g := range regions.Regions {
		got[*g.Org] = g.New
	}
	require.Equal(t, map[string]int64{"north": 2, "south": 1}, got)

	// The whole dashboard, and a breach with its people.
	r = w.h.As(w.northViewer).Request(http.MethodGet, "/api/v1/stats/dashboard?month="+w.h.Clock.Now().Format("2006-01"), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	br := r.Map(t)["breaches"].(map[string]any)["current"].(map[string]any)
	require.Equal(t, map[string]any{"breaches": float64(1), "known": float64(1), "people": float64(300)}, br)

	// CSV of a section.
	r = w.h.As(w.northViewer).Request(http.MethodGet, "/api/v1/stats/open?format=csv", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), `attachment; filename="certdesk-open-`)
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"stage", "severity", "count"}, rows[0])
	require.Len(t, rows, 1+16)
	var open int
	for _, row := range rows[1:] {
		if row[2] != "0" {
			open++
		}
	}
	require.Equal(t, 3, open, "high, medium and critical in response")
}

// Periods and formats are checked and named in 422s.
func TestStatsQueryErrors(t *testing.T) {
	t.Parallel()
	w := statsSetup(t)
	for _, c := range []struct{ query, field, rule string }{
		{"period=PT24H", "period", "iso8601_duration"},
		{"period=P1M&month=2026-11", "period", "exclusive"},
		{"from=2026-11-10&to=2026-11-01", "to", "after_from"},
		{"month=11-2026", "month", "format"},
		{"group=year", "group", "enum"},
		{"format=xml", "format", "enum"},
		{"limit=0", "limit", "range"},
	} {
		r := w.h.As(w.northViewer).Request(http.MethodGet, "/api/v1/stats/deadlines?"+c.query, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, c.query)
		e := r.Map(t)["errors"].([]any)[0].(map[string]any)
		require.Equal(t, c.field, e["field"], c.query)
		require.Equal(t, c.rule, e["rule"], c.query)
	}
	require.Equal(t, http.StatusUnauthorized, w.h.As("").Request(http.MethodGet, "/api/v1/stats/dashboard", nil).Status)
}
