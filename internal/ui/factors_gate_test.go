package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// A session that owes a second factor reaches only the second-factor and
// set-up pages, signing out, the language switch and static files; other
// pages send it there with where it was heading.
func TestPendingSessionGate(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	_, err := w.h.App.DB.SQL.Exec(`INSERT INTO org_sign_in_policies (org_id, second_factor, updated_at) VALUES ($1, 'all', now())`,
		w.users["responder"].OrgID)
	require.NoError(t, err)
	c := w.signedIn(t, "responder")
	for _, path := range []string{"/queue", "/incidents/" + w.ref, "/account", "/help", "/admin", "/"} {
		got := c.get(path)
		require.Equal(t, http.StatusSeeOther, got.status, path)
		loc, err := url.Parse(got.header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/account/security/setup", loc.Path, path)
		if path != "/" {
			require.Equal(t, path, loc.Query().Get("return"), path)
		}
	}
	// Forms go there too, returning to the page they came from.
	got := c.post("/incidents/"+w.ref+"/acknowledge", url.Values{"csrf": {"x"}}, "Referer", w.h.URL+"/incidents/"+w.ref)
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/account/security/setup?return=%2Fincidents%2F"+url.PathEscape(w.ref), got.header.Get("Location"))
	// A script's request is told, not redirected.
	require.Equal(t, http.StatusUnauthorized, c.get("/queue/live", "X-CSRF-Token", "x").status)
	// The static files are there.
	require.NotEqual(t, http.StatusSeeOther, c.get("/static/app.js").status)

	// Someone whose organisation does not require a factor is not stopped.
	r := w.signedIn(t, "reporter")
	require.Equal(t, http.StatusOK, r.get("/incidents/"+w.ref).status)
}
