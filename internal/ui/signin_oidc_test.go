package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/oidcfake"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// ssoWorld is the world with an identity provider for the city of
// Northbridge (city-north.example), set up by its administrator.
type ssoWorld struct {
	*world
	idp   *oidcfake.Server
	admin *identity.User // city-north's administrator
}

func newSSOWorld(t *testing.T) *ssoWorld {
	t.Helper()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}}})
	ctx := context.Background()
	o, err := w.h.App.Store.OrganizationBySlug(ctx, "city-north")
	require.NoError(t, err)
	admin, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "admin@city-north.example",
		Name: "Ada Admin", Role: access.Admin, Password: password})
	require.NoError(t, err)
	w.users["admin"] = admin
	idp := oidcfake.New("certdesk-northbridge", "northbridge-secret", t.Cleanup)
	// Through the administration page, as an administrator would.
	c := w.signedIn(t, "admin")
	form := c.get("/admin/identity-provider")
	require.Equal(t, http.StatusOK, form.status, form.body)
	require.Contains(t, form.body, w.h.URL+"/signin/oidc/callback")
	res := c.post("/admin/identity-provider", url.Values{"csrf": {form.csrf(t)}, "op": {"save"}, "issuer": {idp.Issuer()},
		"client_id": {"certdesk-northbridge"}, "client_secret": {"northbridge-secret"}, "domains": {"city-north.example"},
		"email_claim": {"email"}, "default_role": {"reporter"}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	return &ssoWorld{world: w, idp: idp, admin: admin}
}

// startSSO posts the e-mail step and returns the provider's address it
// is sent to.
func (c *client) startSSO(t *testing.T, email, ret string) string {
	t.Helper()
	form := c.get("/signin")
	require.Contains(t, form.body, `name="step" value="email"`)
	require.NotContains(t, form.body, `id="password"`)
	res := c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "step": {"email"}, "email": {email}, "return": {ret}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	m := toProviderRE.FindStringSubmatch(res.body)
	require.NotNil(t, m, res.body)
	require.Contains(t, res.body, `<meta http-equiv="refresh" content="0; url=`+m[1]+`">`)
	return html.UnescapeString(m[1])
}

var toProviderRE = regexp.MustCompile(`id="to-provider" href="([^"]+)"`)

// atProvider follows the provider's answer and returns certdesk's
// callback path with its query.
func (c *client) atProvider(t *testing.T, to string) string {
	t.Helper()
	res, err := c.http.Get(to)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	back, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/signin/oidc/callback", back.Path)
	return back.RequestURI()
}

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	c := newClient(t, w.h.URL)
	to := c.startSSO(t, w.email("reporter"), "/reports")
	require.True(t, strings.HasPrefix(to, w.idp.Issuer()+"/authorize?"), to)
	cb := c.atProvider(t, to)
	res := c.get(cb)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Equal(t, "/reports", res.header.Get("Location"))
	home := c.get("/reports")
	require.Equal(t, http.StatusOK, home.status)
	require.Contains(t, home.body, "Ana Reporter")

	// The session says how it was established.
	ss, err := w.h.App.Sessions.List(context.Background(), w.users["reporter"].Principal())
	require.NoError(t, err)
	require.Len(t, ss, 1)
	require.EqualValues(t, "oidc", ss[0].Method)

	// The same answer again (a replayed state): a clear page, not a session.
	other := newClient(t, w.h.URL)
	other.get("/signin")
	again := other.get(cb)
	require.Equal(t, http.StatusBadRequest, again.status)
	require.Contains(t, again.body, "already been used")
	require.Empty(t, other.cookie("certdesk-session"))
}

// TestOIDCSignInPasswordStep: an address whose domain has no provider
// gets the password form, whether or not it exists; the password sign-in
// keeps its identical refusals.
func TestOIDCSignInPasswordStep(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	step := func(email string) *page {
		c := newClient(t, w.h.URL)
		form := c.get("/signin")
		return c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "step": {"email"}, "email": {email}})
	}
	known, unknown := step(w.email("stranger")), step("nobody@city-south.example")
	require.Equal(t, http.StatusOK, known.status)
	require.Contains(t, known.body, `id="password"`)
	require.Equal(t, normalise(known.body, w.email("stranger"), "E"), normalise(unknown.body, "nobody@city-south.example", "E"))
	empty := step("")
	require.Equal(t, http.StatusUnprocessableEntity, empty.status)

	c := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c.signIn(w.email("stranger"), password).status)
}

func TestOIDCSignInRefusalPages(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	cases := []struct {
		name   string
		knobs  oidcfake.Knobs
		email  string
		status int
		text   string
	}{
		{"wrong audience", oidcfake.Knobs{Audience: "someone-else"}, "", http.StatusBadRequest, "meant for another application"},
		{"expired token", oidcfake.Knobs{Expired: true}, "", http.StatusBadRequest, "had expired"},
		{"bad nonce", oidcfake.Knobs{Nonce: "other"}, "", http.StatusBadRequest, "did not belong to this sign-in"},
		{"another organisation's domain", oidcfake.Knobs{Email: "stranger@city-south.example"}, "", http.StatusForbidden, "does not use for certdesk"},
		{"unknown user", oidcfake.Knobs{Email: "nobody@city-north.example"}, "", http.StatusForbidden, "no certdesk account for you"},
		{"token endpoint down", oidcfake.Knobs{TokenDown: true}, "", http.StatusBadGateway, "could not reach"},
	}
	for _, tc := range cases {
		w.idp.Set(tc.knobs)
		c := newClient(t, w.h.URL)
		res := c.get(c.atProvider(t, c.startSSO(t, w.email("reporter"), "")))
		require.Equal(t, tc.status, res.status, "%s: %s", tc.name, res.body)
		require.Contains(t, res.body, tc.text, tc.name)
		require.Contains(t, res.body, `href="/signin"`, tc.name)
		require.Empty(t, c.cookie("certdesk-session"), tc.name)
	}

	// The provider down: the e-mail step answers with the page, in German.
	w.idp.Set(oidcfake.Knobs{Down: true})
	c := newClient(t, w.h.URL)
	form := c.get("/signin", "Accept-Language", "de")
	res := c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "step": {"email"}, "email": {w.email("reporter")}}, "Accept-Language", "de")
	require.Equal(t, http.StatusBadGateway, res.status, res.body)
	require.Contains(t, res.body, "konnte den Identitätsanbieter Ihrer Organisation nicht erreichen")

	// Failures after a good state are in the audit log.
	es, _, err := w.h.App.Audit.Read(context.Background(), access.System, audit.Query{Action: sso.SignInFailed})
	require.NoError(t, err)
	require.Len(t, es, len(cases))
}

func TestOIDCCreatesUsersOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	w.idp.Set(oidcfake.Knobs{Email: "new.clerk@city-north.example"})
	c := newClient(t, w.h.URL)
	res := c.get(c.atProvider(t, c.startSSO(t, w.email("reporter"), "")))
	require.Equal(t, http.StatusForbidden, res.status)

	admin := w.signedIn(t, "admin")
	form := admin.get("/admin/identity-provider")
	require.Contains(t, form.body, "A secret is set and is never shown")
	require.NotContains(t, form.body, "northbridge-secret")
	saved := admin.post("/admin/identity-provider", url.Values{"csrf": {form.csrf(t)}, "op": {"save"}, "issuer": {w.idp.Issuer()},
		"client_id": {"certdesk-northbridge"}, "domains": {"city-north.example"}, "create_users": {"yes"}, "default_role": {"viewer"}})
	require.Equal(t, http.StatusSeeOther, saved.status, saved.body)

	c = newClient(t, w.h.URL)
	res = c.get(c.atProvider(t, c.startSSO(t, w.email("reporter"), "")))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	u, err := w.h.App.Store.UserByEmail(context.Background(), "new.clerk@city-north.example")
	require.NoError(t, err)
	require.Equal(t, access.Viewer, u.Role)
}

// TestOIDCAdminOwnOrganisationOnly: the page configures the
// administrator's own organisation; another organisation's domain cannot
// be claimed, and other roles are refused.
func TestOIDCAdminOwnOrganisationOnly(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	admin := w.signedIn(t, "admin")
	form := admin.get("/admin/identity-provider")
	res := admin.post("/admin/identity-provider", url.Values{"csrf": {form.csrf(t)}, "op": {"save"}, "issuer": {w.idp.Issuer()},
		"client_id": {"x"}, "domains": {"city-north.example\ncity-south.example"}, "default_role": {"reporter"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, "Another organisation uses city-south.example")
	has, err := w.h.App.SSO.HasProvider(context.Background(), w.email("stranger"))
	require.NoError(t, err)
	require.False(t, has)

	reporter := w.signedIn(t, "reporter")
	require.Equal(t, http.StatusForbidden, reporter.get("/admin/identity-provider").status)
}

// The e-mail step of an address whose domain has a provider starts a
// sign-in (a stored state, a request to the provider); one client
// address may start sso.StartRule.Limit of them per window, then the
// form comes back with 429, Retry-After and when to try again.
func TestOIDCSignInStartsAreThrottled(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	c := newClient(t, w.h.URL)
	for i := 0; i < sso.StartRule.Limit; i++ {
		form := c.get("/signin")
		res := c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "step": {"email"}, "email": {w.email("reporter")}})
		require.Equal(t, http.StatusOK, res.status, "start %d", i+1)
		require.NotContains(t, res.body, `id="password"`, "a provider's domain goes to the provider")
	}
	form := c.get("/signin")
	res := c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "step": {"email"}, "email": {w.email("reporter")}})
	require.Equal(t, http.StatusTooManyRequests, res.status, res.body)
	require.NotEmpty(t, res.header.Get("Retry-After"))
	require.Contains(t, res.body, "Too many sign-ins started from this address")
}
