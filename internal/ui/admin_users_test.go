package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/stretchr/testify/require"
)

// userOf is the demo user <role>@<slug>.demo.
func (s *adminSetup) userOf(t *testing.T, role, slug string) *identity.User {
	t.Helper()
	u, err := s.w.h.App.Identity.UserByEmail(context.Background(), access.System, role+"@"+slug+".demo")
	require.NoError(t, err)
	return u
}

func TestAdminManagesUsersOfItsOrganisations(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	north := s.as(t, "admin", "cert-north")

	t.Run("lists", func(t *testing.T) {
		all := north.get("/admin/users")
		require.Equal(t, http.StatusOK, all.status)
		require.Contains(t, all.body, "reporter@city-northbridge.demo")
		require.NotContains(t, all.body, "city-southvale.demo")
		org := north.get("/admin/organisations/city-northbridge/users")
		require.Equal(t, http.StatusOK, org.status)
		require.Contains(t, org.body, "viewer@city-northbridge.demo")
		require.NotContains(t, org.body, "@cert-north.demo</td>")
		require404LikeNothing(t, north, "/admin/organisations/city-southvale/users", "city-southvale")
	})
	t.Run("bad input names the field and keeps what was typed", func(t *testing.T) {
		got := north.form("/admin/organisations/city-northbridge/users", "/admin/organisations/city-northbridge/users",
			url.Values{"name": {"Bea Broken"}, "email": {"not an address"}, "role": {"chief"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, `href="#email"`)
		require.Contains(t, got.body, "Enter an e-mail address such as ana@city.example")
		require.Contains(t, got.body, "Choose a role from the list")
		require.Contains(t, got.body, `value="Bea Broken"`)
		got = north.form("/admin/organisations/city-northbridge/users", "/admin/organisations/city-northbridge/users",
			url.Values{"name": {"Twin"}, "email": {"reporter@city-northbridge.demo"}, "role": {"reporter"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "A user with this e-mail address exists")
	})
	t.Run("creates with a one-time password link", func(t *testing.T) {
		got := north.form("/admin/organisations/city-northbridge/users", "/admin/organisations/city-northbridge/users",
			url.Values{"name": {"Nina New"}, "email": {"nina@city-northbridge.demo"}, "role": {"responder"}})
		require.Equal(t, http.StatusOK, got.status, got.body)
		require.Contains(t, got.body, "/password-reset/")
		u, err := s.w.h.App.Identity.UserByEmail(ctx, access.System, "nina@city-northbridge.demo")
		require.NoError(t, err)
		require.Equal(t, access.Responder, u.Role)
		require.Equal(t, "city-northbridge", u.OrgSlug)
	})
	t.Run("not in another organisation", func(t *testing.T) {
		got := north.form("/admin/organisations/city-northbridge/users", "/admin/organisations/city-southvale/users",
			url.Values{"name": {"Mole"}, "email": {"mole@city-southvale.demo"}, "role": {"admin"}})
		require.Equal(t, http.StatusNotFound, got.status)
		_, err := s.w.h.App.Identity.UserByEmail(ctx, access.System, "mole@city-southvale.demo")
		require.Error(t, err)
	})
	t.Run("changes a role", func(t *testing.T) {
		target := s.userOf(t, "viewer", "city-northbridge")
		path := "/admin/users/" + target.ID.String()
		require.Equal(t, http.StatusOK, north.get(path).status)
		got := north.form(path, path, url.Values{"name": {"Vera Viewer"}, "role": {"reporter"}})
		require.Equal(t, http.StatusSeeOther, got.status, got.body)
		require.Equal(t, access.Reporter, s.userOf(t, "viewer", "city-northbridge").Role)
		got = north.form(path, path, url.Values{"name": {"Vera Viewer"}, "role": {"chief"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Choose a role from the list")
	})
	t.Run("not their own role", func(t *testing.T) {
		me := s.userOf(t, "admin", "cert-north")
		path := "/admin/users/" + me.ID.String()
		got := north.form(path, path, url.Values{"name": {me.Name}, "role": {"viewer"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "You cannot change your own role")
		require.Equal(t, access.Admin, s.userOf(t, "admin", "cert-north").Role)
		require.NotContains(t, north.get(path).body, "/disable\"", "no way to disable oneself")
	})
	t.Run("a user of another organisation is the 404 page and stays", func(t *testing.T) {
		other := s.userOf(t, "responder", "city-southvale")
		path := "/admin/users/" + other.ID.String()
		require404LikeNothing(t, north, path, other.ID.String())
		require.Equal(t, http.StatusNotFound, north.get(path+"/disable").status)
		got := north.form("/admin/users", path, url.Values{"name": {"X"}, "role": {"viewer"}})
		require.Equal(t, http.StatusNotFound, got.status)
		got = north.form("/admin/users", path+"/disable", nil)
		require.Equal(t, http.StatusNotFound, got.status)
		still := s.userOf(t, "responder", "city-southvale")
		require.Equal(t, access.Responder, still.Role)
		require.Nil(t, still.DisabledAt)
		// A city's administrator does not manage its CERT's users.
		city := s.as(t, "admin", "city-northbridge")
		require.Equal(t, http.StatusNotFound, city.get("/admin/users/"+s.userOf(t, "responder", "cert-north").ID.String()).status)
	})
	t.Run("a new password link, shown once", func(t *testing.T) {
		target := s.userOf(t, "reporter", "city-northbridge")
		path := "/admin/users/" + target.ID.String()
		got := north.form(path, path+"/reset-link", nil)
		require.Equal(t, http.StatusOK, got.status)
		require.Contains(t, got.body, "/password-reset/cdr_")
		require.NotContains(t, north.get(path).body, "/password-reset/")
		other := s.userOf(t, "reporter", "city-southvale")
		got = north.form(path, "/admin/users/"+other.ID.String()+"/reset-link", nil)
		require.Equal(t, http.StatusNotFound, got.status)
	})
	t.Run("other roles are refused", func(t *testing.T) {
		c := s.as(t, "coordinator", "cert-north")
		target := s.userOf(t, "reporter", "city-northbridge")
		for _, path := range []string{"/admin/users", "/admin/organisations/city-northbridge/users", "/admin/users/" + target.ID.String()} {
			require.Equal(t, http.StatusForbidden, c.get(path).status, path)
		}
		got := c.form("/incidents", "/admin/users/"+target.ID.String()+"/disable", nil)
		require.Equal(t, http.StatusForbidden, got.status)
		require.Nil(t, s.userOf(t, "reporter", "city-northbridge").DisabledAt)
	})
}

// Disabling a user ends every session of theirs and revokes every API
// token of theirs, at once.
func TestAdminDisablingAUserEndsTheirSessionsAndTokens(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	target := s.userOf(t, "responder", "city-northbridge")
	token, _, err := s.w.h.App.Identity.CreateToken(ctx, access.System, target.ID, "ci", nil)
	require.NoError(t, err)
	api := newClient(t, s.w.h.URL)
	require.Equal(t, http.StatusOK, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)
	browser := s.as(t, "responder", "city-northbridge")
	other := s.as(t, "responder", "city-northbridge") // a second browser
	require.Equal(t, http.StatusOK, browser.get("/incidents").status)

	city := s.as(t, "admin", "city-northbridge")
	path := "/admin/users/" + target.ID.String()
	confirm := city.get(path + "/disable")
	require.Equal(t, http.StatusOK, confirm.status)
	require.Contains(t, confirm.body, "every session of theirs ends")
	require.Contains(t, confirm.body, "every API token of theirs is revoked")
	got := city.post(path+"/disable", url.Values{"csrf": {confirm.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Contains(t, city.get(got.header.Get("Location")).body, "their sessions have ended and their API tokens are revoked")

	for _, c := range []*client{browser, other} {
		got := c.get("/incidents")
		require.Equal(t, http.StatusSeeOther, got.status, "the session ended")
		require.Contains(t, got.header.Get("Location"), "/signin")
	}
	require.Equal(t, http.StatusUnauthorized, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)
	fresh := newClient(t, s.w.h.URL)
	require.Equal(t, http.StatusUnauthorized, fresh.signIn(target.Email, app.DemoPassword).status)
	require.NotNil(t, s.userOf(t, "responder", "city-northbridge").DisabledAt)

	// Enabling them again lets them sign in; the token stays revoked.
	page := city.get(path)
	got = city.post(path+"/disable", url.Values{"csrf": {page.csrf(t)}, "enable": {"1"}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, http.StatusSeeOther, fresh.signIn(target.Email, app.DemoPassword).status)
	require.Equal(t, http.StatusUnauthorized, api.get("/api/v1/me", "Authorization", "Bearer "+token).status)
}
