package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// addAdmin creates an administrator of the organisation slug in the world
// and returns its name there.
func (w *world) addAdmin(t *testing.T, slug string) string {
	t.Helper()
	ctx := context.Background()
	o, err := w.h.App.Store.OrganizationBySlug(ctx, slug)
	require.NoError(t, err)
	name := "admin-" + slug
	u, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: name + "@" + slug + ".example",
		Name: "Admin " + slug, Role: access.Admin, Password: password})
	require.NoError(t, err)
	w.users[name] = u
	return name
}

var (
	keyRE   = regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)<`)
	codesRE = regexp.MustCompile(`<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>`)
)

func appCode(t *testing.T, key string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(key, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return c
}

// The whole journey over HTTP: the CERT's admin requires a second factor
// of responders; a responder is led through set-up, sees ten recovery
// codes, and at the next sign-in must give a code (a wrong one is an error
// on the field); a recovery code works once.
func TestSecondFactorPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.h.Clock.Freeze()
	admin := w.signedIn(t, w.addAdmin(t, "cert-north"))
	form := admin.get("/admin/organisations/cert-north/sign-in")
	require.Equal(t, http.StatusOK, form.status, form.body)
	got := admin.post("/admin/organisations/cert-north/sign-in", url.Values{"csrf": {form.csrf(t)}, "second_factor": {"roles"},
		"step_up_minutes": {"15"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status, "roles without a role")
	require.Contains(t, got.body, "Choose at least one role.")
	got = admin.post("/admin/organisations/cert-north/sign-in", url.Values{"csrf": {form.csrf(t)}, "second_factor": {"roles"},
		"roles": {"responder"}, "passkey_alone": {"1"}, "step_up_minutes": {"15"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)

	c := newClient(t, w.h.URL)
	got = c.signIn(w.email("responder"), password)
	require.Equal(t, http.StatusSeeOther, got.status)
	got = c.get(got.header.Get("Location"))
	require.Equal(t, http.StatusSeeOther, got.status)
	require.True(t, strings.HasPrefix(got.header.Get("Location"), "/account/security/setup"), got.header.Get("Location"))
	setup := c.get(got.header.Get("Location"))
	require.Equal(t, http.StatusOK, setup.status)
	m := keyRE.FindStringSubmatch(setup.body)
	require.NotNil(t, m, setup.body)
	key := m[1]
	qr := c.get("/account/security/setup/qr.png")
	require.Equal(t, http.StatusOK, qr.status)
	require.Equal(t, "image/png", qr.header.Get("Content-Type"))
	require.Equal(t, "no-store", qr.header.Get("Cache-Control"))
	require.True(t, strings.HasPrefix(qr.body, "\x89PNG"))

	wrong := c.post("/account/security/setup", url.Values{"csrf": {setup.csrf(t)}, "code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, wrong.status)
	require.Contains(t, wrong.body, `aria-invalid="true"`)
	done := c.post("/account/security/setup", url.Values{"csrf": {setup.csrf(t)}, "code": {appCode(t, key, w.h.Clock.Now())}})
	require.Equal(t, http.StatusOK, done.status, done.body)
	codes := codesRE.FindAllStringSubmatch(done.body, -1)
	require.Len(t, codes, 10)
	require.Equal(t, http.StatusOK, c.get("/queue").status, "complete now")
	sessions := c.get("/account/sessions")
	require.Contains(t, sessions.body, "Password &#43; authenticator app")

	// Next sign-in: the code is asked for.
	c2 := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c2.signIn(w.email("responder"), password).status)
	got = c2.get("/incidents/" + w.ref)
	require.Equal(t, "/signin/second-factor?return=%2Fincidents%2F"+url.PathEscape(w.ref), got.header.Get("Location"))
	page := c2.get(got.header.Get("Location"))
	require.Equal(t, http.StatusOK, page.status)
	require.NotContains(t, page.body, "/signin/second-factor/passkey", "no passkey: no link")
	bad := c2.post("/signin/second-factor", url.Values{"csrf": {page.csrf(t)}, "code": {"123456"}, "return": {"/incidents/" + w.ref}})
	require.Equal(t, http.StatusUnauthorized, bad.status)
	require.Contains(t, bad.body, "This code is not right")
	require.Contains(t, bad.body, `id="code-error"`)
	w.h.Advance(30 * time.Second)
	ok := c2.post("/signin/second-factor", url.Values{"csrf": {page.csrf(t)}, "code": {appCode(t, key, w.h.Clock.Now())}, "return": {"/incidents/" + w.ref}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	require.Equal(t, "/incidents/"+w.ref, ok.header.Get("Location"))
	require.Equal(t, http.StatusOK, c2.get("/incidents/"+w.ref).status)

	// A recovery code works once.
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		c3 := newClient(t, w.h.URL)
		require.Equal(t, http.StatusSeeOther, c3.signIn(w.email("responder"), password).status)
		pg := c3.get("/signin/second-factor")
		got := c3.post("/signin/second-factor", url.Values{"csrf": {pg.csrf(t)}, "code": {codes[0][1]}})
		require.Equal(t, want, got.status, "use %d", i)
	}
	// A passkey row brings the link to the passkey page.
	_, err := w.h.App.DB.SQL.Exec(`INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at) VALUES ('\x01', $1, 'key', '{}', now())`,
		w.users["responder"].ID)
	require.NoError(t, err)
	c4 := newClient(t, w.h.URL)
	c4.signIn(w.email("responder"), password)
	require.Contains(t, c4.get("/signin/second-factor").body, `href="/signin/second-factor/passkey"`)

	// Step-up: the admin's organisation now requires it of admins too;
	// after the step-up minutes the administration asks again.
	got = admin.post("/admin/organisations/cert-north/sign-in", url.Values{"csrf": {form.csrf(t)}, "second_factor": {"all"},
		"step_up_minutes": {"5"}})
	require.Equal(t, http.StatusSeeOther, got.status)
	got = admin.get("/admin/users")
	require.Equal(t, http.StatusSeeOther, got.status, "no second factor yet: set one up")
	require.Equal(t, "/signin/second-factor?return=%2Fadmin%2Fusers", got.header.Get("Location"))
	require.Equal(t, "/account/security/setup?return=%2Fadmin%2Fusers", admin.get(got.header.Get("Location")).header.Get("Location"))
	su := admin.get("/account/security/setup?return=%2Fadmin%2Fusers")
	akey := keyRE.FindStringSubmatch(su.body)[1]
	fin := admin.post("/account/security/setup", url.Values{"csrf": {su.csrf(t)}, "code": {appCode(t, akey, w.h.Clock.Now())}, "return": {"/admin/users"}})
	require.Contains(t, fin.body, `href="/admin/users"`)
	require.Equal(t, http.StatusOK, admin.get("/admin/users").status)
	require.Equal(t, http.StatusOK, c2.get("/incidents/"+w.ref).status, "not sensitive")
	w.h.Advance(6 * time.Minute)
	got = admin.get("/admin/users")
	require.Equal(t, http.StatusSeeOther, got.status)
	step := admin.get(got.header.Get("Location"))
	require.Contains(t, step.body, "This action needs a recent second factor")
	ok = admin.post("/signin/second-factor", url.Values{"csrf": {step.csrf(t)}, "code": {appCode(t, akey, w.h.Clock.Now())}, "return": {"/admin/users"}})
	require.Equal(t, "/admin/users", ok.header.Get("Location"))
	require.Equal(t, http.StatusOK, admin.get("/admin/users").status)
	// Exports ask too.
	got = c2.get("/incidents/" + w.ref + "/observables.csv")
	require.Equal(t, http.StatusSeeOther, got.status, "the responder's factor is older than 5 minutes")
	require.True(t, strings.HasPrefix(got.header.Get("Location"), "/signin/second-factor?return="))
	// TLP:CLEAR asks; another label does not.
	inc := c2.get("/incidents/" + w.ref)
	back := "Referer"
	got = c2.post("/incidents/"+w.ref+"/tlp", url.Values{"csrf": {inc.csrf(t)}, "tlp": {"TLP:CLEAR"}}, back, w.h.URL+"/incidents/"+w.ref+"/tlp")
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/signin/second-factor?return=%2Fincidents%2F"+url.PathEscape(w.ref)+"%2Ftlp", got.header.Get("Location"))
	got = c2.post("/incidents/"+w.ref+"/tlp", url.Values{"csrf": {inc.csrf(t)}, "tlp": {"TLP:RED"}}, back, w.h.URL+"/incidents/"+w.ref+"/tlp")
	require.False(t, strings.HasPrefix(got.header.Get("Location"), "/signin/second-factor"), got.header.Get("Location"))
}

// Another organisation's administrator cannot see or set this
// organisation's policy, nor reset its people's factors; its own
// administrator can, and the link removes the factors.
func TestSignInPolicyPageAcrossOrganisations(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	south := w.signedIn(t, w.addAdmin(t, "cert-south"))
	north := w.signedIn(t, w.addAdmin(t, "cert-north"))
	require.Equal(t, http.StatusNotFound, south.get("/admin/organisations/cert-north/sign-in").status)
	pg := south.get("/admin/organisations/cert-south/sign-in")
	require.Equal(t, http.StatusOK, pg.status)
	got := south.post("/admin/organisations/cert-north/sign-in", url.Values{"csrf": {pg.csrf(t)}, "second_factor": {"all"}, "step_up_minutes": {"15"}})
	require.Equal(t, http.StatusNotFound, got.status)
	got = south.post("/admin/users/"+w.users["responder"].ID.String()+"/factor-reset", url.Values{"csrf": {pg.csrf(t)}})
	require.Equal(t, http.StatusNotFound, got.status)
	resp := w.signedIn(t, "responder")
	require.Equal(t, http.StatusForbidden, resp.get("/admin/organisations/cert-north/sign-in").status)

	npg := north.get("/admin/organisations/cert-north/sign-in")
	got = north.post("/admin/users/"+w.users["responder"].ID.String()+"/factor-reset", url.Values{"csrf": {npg.csrf(t)}})
	require.Equal(t, http.StatusOK, got.status, got.body)
	m := regexp.MustCompile(`(/factor-reset/cdf_[A-Za-z0-9_-]+)`).FindStringSubmatch(got.body)
	require.NotNil(t, m)
	anon := newClient(t, w.h.URL)
	require.Equal(t, http.StatusOK, anon.get(m[1]).status)
	require.Equal(t, http.StatusOK, anon.post(m[1], url.Values{}).status)
	require.Equal(t, http.StatusNotFound, anon.get(m[1]).status, "once")
	require.Equal(t, http.StatusSeeOther, resp.get("/queue").status, "the person's sessions ended")
}
