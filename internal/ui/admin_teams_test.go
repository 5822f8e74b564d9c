package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAdminManagesTeams(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	north := s.as(t, "admin", "cert-north")
	admin := s.userOf(t, "admin", "cert-north")

	require.Equal(t, http.StatusOK, north.get("/admin/teams").status)
	got := north.form("/admin/teams", "/admin/teams", url.Values{"name": {"   "}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `href="#team_name"`)
	require.Contains(t, got.body, "Enter the team&#39;s name")

	got = north.form("/admin/teams", "/admin/teams", url.Values{"name": {"Night shift"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	teams, err := s.w.h.App.Teams.List(ctx, admin.Principal())
	require.NoError(t, err)
	var id string
	for _, tm := range teams {
		if tm.Name == "Night shift" {
			id = tm.ID.String()
		}
	}
	require.NotEmpty(t, id)
	got = north.form("/admin/teams", "/admin/teams", url.Values{"name": {"night SHIFT"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "Your CERT has a team of this name")

	// Members: users of the CERT only.
	got = north.form("/admin/teams", "/admin/teams/"+id+"/members", url.Values{"email": {"reporter@city-northbridge.demo"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "No user of your CERT has this e-mail address")
	require.Contains(t, got.body, `value="reporter@city-northbridge.demo"`)
	responder := s.userOf(t, "responder", "cert-north")
	got = north.form("/admin/teams", "/admin/teams/"+id+"/members", url.Values{"email": {responder.Email}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Contains(t, north.get("/admin/users/"+responder.ID.String()).body, "Member of Night shift")
	got = north.form("/admin/teams", "/admin/teams/"+id+"/members/"+responder.ID.String()+"/remove",
		url.Values{"return": {"/admin/users/" + responder.ID.String()}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/admin/users/"+responder.ID.String()+"?done=team#teams", got.header.Get("Location"))
	require.Contains(t, north.get("/admin/users/"+responder.ID.String()).body, "Not in Night shift")

	got = north.form("/admin/teams", "/admin/teams/"+id, url.Values{"name": {"Night watch"}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Contains(t, north.get("/admin/teams").body, "Night watch")

	// Another CERT's administrator: the same 404 as no team, nothing changes.
	south := s.as(t, "admin", "cert-south")
	require404LikeNothing(t, south, "/admin/teams/"+id+"/delete", id)
	got = south.form("/admin/teams", "/admin/teams/"+id, url.Values{"name": {"Stolen"}})
	require.Equal(t, http.StatusNotFound, got.status)
	got = south.form("/admin/teams", "/admin/teams/"+id+"/delete", nil)
	require.Equal(t, http.StatusNotFound, got.status)
	require.Contains(t, north.get("/admin/teams").body, "Night watch")

	// A city has no teams; other roles are refused.
	city := s.as(t, "admin", "city-northbridge")
	require.Equal(t, http.StatusForbidden, city.get("/admin/teams").status)
	require.NotContains(t, city.get("/admin").body, `href="/admin/teams"`)
	responderClient := s.as(t, "responder", "cert-north")
	require.Equal(t, http.StatusForbidden, responderClient.get("/admin/teams").status)

	confirm := north.get("/admin/teams/" + id + "/delete")
	require.Equal(t, http.StatusOK, confirm.status)
	got = north.post("/admin/teams/"+id+"/delete", url.Values{"csrf": {confirm.csrf(t)}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.NotContains(t, north.get("/admin/teams").body, "Night watch")
}
