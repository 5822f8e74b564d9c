package ui_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

// addUser adds a user to the world (name@slug.example).
func (w *world) addUser(t *testing.T, name, slug string, role access.Role) {
	t.Helper()
	ctx := context.Background()
	o, err := w.h.App.Store.OrganizationBySlug(ctx, slug)
	require.NoError(t, err)
	u, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: name + "@" + slug + ".example",
		Name: name, Role: role, Password: password})
	require.NoError(t, err)
	w.users[name] = u
}

// csvTotal sums the last column ("Total") of a stacked chart's CSV.
func csvTotal(t *testing.T, body string) int {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	total := 0
	for _, r := range rows[1:] {
		n, err := strconv.Atoi(strings.ReplaceAll(r[len(r)-1], "\u202f", ""))
		require.NoError(t, err, "row %v", r)
		total += n
	}
	return total
}

// A city's viewer reads the figures of its own incidents only: a city
// under another CERT reports an incident that the national CERT's viewer
// counts and lists, the city's viewer neither. Someone of another
// organisation gets the same 404 for the executive summary and the
// incident report of an incident it may not see as for a reference that
// does not exist; those who see it get both.
func TestDashboardAndReportsKeepToWhatTheViewerSees(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.addUser(t, "cityviewer", "city-north", access.Viewer)
	w.addUser(t, "natviewer", "national", access.Viewer)
	ctx := context.Background()
	south, _, err := w.h.App.Incidents.Create(ctx, w.users["stranger"].Principal(), incident.NewIncident{
		Title: "Phishing wave against the Southvale town hall", Severity: incident.Medium, TLP: incident.TLPAmber,
		Category: "fraud", Type: "phishing"}, nil)
	require.NoError(t, err)

	city := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, city.signIn(w.email("cityviewer"), password).status)
	require.Equal(t, "/dashboard", city.get("/").header.Get("Location"), "a viewer lands on the dashboard")
	page := city.get("/dashboard")
	require.Equal(t, http.StatusOK, page.status, page.body)
	require.Contains(t, page.body, w.ref)
	require.NotContains(t, page.body, south.Reference)
	require.NotContains(t, page.body, "Southvale")
	require.Equal(t, 1, csvTotal(t, city.get("/dashboard/csv?chart=new-by-class").body))

	nat := newClient(t, w.h.URL)
	nat.signIn(w.email("natviewer"), password)
	page = nat.get("/dashboard")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, w.ref)
	require.Contains(t, page.body, south.Reference)
	csvPage := nat.get("/dashboard/csv?chart=new-by-class")
	require.Equal(t, "text/csv; charset=utf-8", csvPage.header.Get("Content-Type"))
	require.Contains(t, csvPage.header.Get("Content-Disposition"), "attachment")
	require.Equal(t, 2, csvTotal(t, csvPage.body))

	// Compared by default; without the comparison the period-before
	// series are left out; a malformed period comes back with its error.
	require.Contains(t, page.body, "new, period before")
	plain := nat.get("/dashboard?range=last-30-days")
	require.Equal(t, http.StatusOK, plain.status)
	require.NotContains(t, plain.body, "new, period before")
	require.NotContains(t, plain.body, "median, period before")
	bad := nat.get("/dashboard?range=month&month=2026-13")
	require.Equal(t, http.StatusBadRequest, bad.status)
	require.Contains(t, bad.body, `href="#month"`)
	require.Contains(t, bad.body, "Enter a month, such as 2026-11")
	// The list's filters: what the drill-downs use.
	list := nat.get("/incidents?status=open&category=fraud")
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, list.body, south.Reference)
	require.NotContains(t, list.body, w.ref)

	// The city's incident: its viewer and the national CERT's read the
	// summary and the report; a city under another CERT does not.
	for _, c := range []*client{city, nat} {
		got := c.get("/incidents/" + w.ref + "/summary")
		require.Equal(t, http.StatusOK, got.status)
		require.Contains(t, got.body, "Executive summary")
		pdf := c.get("/incidents/" + w.ref + "/report.pdf")
		require.Equal(t, http.StatusOK, pdf.status)
		require.Equal(t, "application/pdf", pdf.header.Get("Content-Type"))
		require.True(t, strings.HasPrefix(pdf.body, "%PDF-"))
	}
	stranger := newClient(t, w.h.URL)
	stranger.signIn(w.email("stranger"), password)
	for _, suffix := range []string{"/summary", "/report.pdf"} {
		missing := stranger.get("/incidents/INC-2099-000001" + suffix)
		require.Equal(t, http.StatusNotFound, missing.status)
		got := stranger.get("/incidents/" + w.ref + suffix)
		require.Equal(t, http.StatusNotFound, got.status, suffix)
		require.Equal(t, normalise(missing.body, "INC-2099-000001", "REF"), normalise(got.body, w.ref, "REF"),
			"%s: the same page as a reference that does not exist", suffix)
	}
}
