package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

func TestAdminDesignatesTLPRedRecipients(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	north := s.as(t, "admin", "cert-north")
	path := "/admin/organisations/cert-north/red-recipients"

	got := north.get(path)
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, `value="responder@cert-north.demo" checked`, "the demo designates the CERT's responder")
	require.NotContains(t, got.body, `value="reporter@cert-north.demo"`, "reporters may not acknowledge")

	got = north.form(path, path, url.Values{"recipients": {"coordinator@cert-north.demo", "admin@cert-north.demo"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	r, err := s.w.h.App.Incidents.RedRecipients(ctx, access.System, "cert-north")
	require.NoError(t, err)
	var emails []string
	for _, u := range r.Designated {
		emails = append(emails, u.Email)
	}
	require.ElementsMatch(t, []string{"coordinator@cert-north.demo", "admin@cert-north.demo"}, emails)
	require.Contains(t, north.get(path+"?done=saved").body, "The TLP:RED recipients are saved.")

	t.Run("bad input names the field", func(t *testing.T) {
		got := north.form(path, path, url.Values{"recipients": {"responder@city-northbridge.demo"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, `href="#recipients"`)
		require.Contains(t, got.body, "Choose people of this CERT only")
		got = north.form(path, path, url.Values{"recipients": {"reporter@cert-north.demo"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Choose responders, coordinators or administrators only")
	})
	t.Run("nobody: the coordinators receive them, and the overview counts it", func(t *testing.T) {
		got := north.form(path, path, url.Values{})
		require.Equal(t, http.StatusSeeOther, got.status)
		page := north.get(path)
		require.Contains(t, page.body, "TLP:RED incidents now go to the CERT&#39;s coordinators")
		require.Regexp(t, regexp.MustCompile(`hygiene-count">1</span>\s*<span class="hygiene-label">CERT without a TLP:RED recipient`), north.get("/admin").body)
	})
	t.Run("a city designates none", func(t *testing.T) {
		got := north.get("/admin/organisations/city-northbridge/red-recipients")
		require.Equal(t, http.StatusOK, got.status)
		require.Contains(t, got.body, "Only CERTs designate TLP:RED recipients")
		require.NotContains(t, got.body, `name="recipients"`)
	})
	t.Run("another organisation is the 404 page and changes nothing", func(t *testing.T) {
		require404LikeNothing(t, north, "/admin/organisations/cert-south/red-recipients", "cert-south")
		got := north.form(path, "/admin/organisations/cert-south/red-recipients", url.Values{"recipients": {"admin@cert-south.demo"}})
		require.Equal(t, http.StatusNotFound, got.status)
		city := s.as(t, "admin", "city-northbridge")
		require.Equal(t, http.StatusNotFound, city.get(path).status, "a city's administrator does not manage its CERT")
		r, err := s.w.h.App.Incidents.RedRecipients(ctx, access.System, "cert-south")
		require.NoError(t, err)
		require.Len(t, r.Designated, 1)
		require.Equal(t, "responder@cert-south.demo", r.Designated[0].Email)
	})
	t.Run("other roles are refused", func(t *testing.T) {
		c := s.as(t, "coordinator", "cert-north")
		require.Equal(t, http.StatusForbidden, c.get(path).status)
		got := c.form("/incidents", path, url.Values{"recipients": {"coordinator@cert-north.demo"}})
		require.Equal(t, http.StatusForbidden, got.status)
	})
}

var tokenRE = regexp.MustCompile(`<p class="secret">(cdt_[A-Za-z0-9_-]+)</p>`)

func TestEveryoneManagesTheirOwnAPITokens(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	reporter := s.as(t, "reporter", "city-northbridge")
	require.Equal(t, http.StatusOK, reporter.get("/account/tokens").status)
	require.Contains(t, reporter.get("/account").body, `href="/account/tokens"`)

	got := reporter.form("/account/tokens", "/account/tokens", url.Values{"name": {"ticket system"}, "days": {"0"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `href="#days"`)
	require.Contains(t, got.body, `value="ticket system"`)
	got = reporter.form("/account/tokens", "/account/tokens", url.Values{"name": {"ticket system"}, "days": {"400"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "A token is valid for at most 366 days")

	got = reporter.form("/account/tokens", "/account/tokens", url.Values{"name": {"ticket system"}, "days": {"30"}})
	require.Equal(t, http.StatusOK, got.status, got.body)
	m := tokenRE.FindStringSubmatch(got.body)
	require.NotNil(t, m, "the token is shown once")
	token := m[1]
	api := newClient(t, s.w.h.URL)
	require.Equal(t, http.StatusOK, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)
	list := reporter.get("/account/tokens")
	require.NotContains(t, list.body, token, "shown once only")
	require.Contains(t, list.body, "ticket system")
	require.Contains(t, list.body, token[:10])

	ts, err := s.w.h.App.Identity.Tokens(context.Background(), s.userOf(t, "reporter", "city-northbridge").Principal())
	require.NoError(t, err)
	var id string
	for _, tk := range ts {
		if tk.Name == "ticket system" {
			id = tk.ID.String()
		}
	}
	require.NotEmpty(t, id)

	// Another person cannot revoke it: the 404 page, and it still works.
	other := s.as(t, "admin", "cert-north")
	got = other.form("/account/tokens", "/account/tokens/"+id+"/revoke", nil)
	require.Equal(t, http.StatusNotFound, got.status)
	require.Equal(t, http.StatusOK, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)

	got = reporter.form("/account/tokens", "/account/tokens/"+id+"/revoke", nil)
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Contains(t, reporter.get(got.header.Get("Location")).body, "The token is revoked")
	require.Equal(t, http.StatusUnauthorized, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)
}
