package ui_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/stretchr/testify/require"
)

// A person whose authenticator app key no longer opens (the database
// restored without the secrets key) is told so in words when a code is
// entered, not shown an error page: a recovery code still signs them in,
// and their password removes the app so that they can set it up again.
func TestSecondFactorWithAKeyThatNoLongerOpens(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.h.Clock.Freeze()
	c := w.signedIn(t, "responder")
	setup := c.get("/account/security/setup")
	require.Equal(t, http.StatusOK, setup.status, setup.body)
	key := keyRE.FindStringSubmatch(setup.body)[1]
	done := c.post("/account/security/setup", url.Values{"csrf": {setup.csrf(t)}, "code": {appCode(t, key, w.h.Clock.Now())}})
	require.Equal(t, http.StatusOK, done.status, done.body)
	codes := codesRE.FindAllStringSubmatch(done.body, -1)
	require.Len(t, codes, 10)

	// The key as another installation's secrets key sealed it.
	k, err := sealed.NewKey()
	require.NoError(t, err)
	other, err := sealed.New(k)
	require.NoError(t, err)
	foreign, err := other.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:"+w.users["responder"].ID.String())
	require.NoError(t, err)
	_, err = w.h.App.DB.SQL.Exec(`UPDATE user_totp SET key_sealed = $1 WHERE user_id = $2`, foreign, w.users["responder"].ID)
	require.NoError(t, err)

	c2 := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c2.signIn(w.email("responder"), password).status)
	page := c2.get("/signin/second-factor")
	require.Equal(t, http.StatusOK, page.status)
	w.h.Advance(30 * time.Second)
	got := c2.post("/signin/second-factor", url.Values{"csrf": {page.csrf(t)}, "code": {appCode(t, key, w.h.Clock.Now())}})
	require.Equal(t, http.StatusUnauthorized, got.status)
	require.Contains(t, got.body, "This server cannot check codes from your authenticator app")
	require.Contains(t, got.body, `id="code-error"`)
	got = c2.post("/signin/second-factor", url.Values{"csrf": {page.csrf(t)}, "code": {codes[0][1]}})
	require.Equal(t, http.StatusSeeOther, got.status, "a recovery code still works")

	sec := c2.get("/account/security")
	require.Equal(t, http.StatusOK, sec.status)
	got = c2.post("/account/security/app/remove", url.Values{"csrf": {sec.csrf(t)}, "code": {"123456"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, "remove the app with your password")
	got = c2.post("/account/security/app/remove", url.Values{"csrf": {sec.csrf(t)}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	var n int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM user_totp WHERE user_id = $1`, w.users["responder"].ID).Scan(&n))
	require.Zero(t, n, "the app is removed")
}
