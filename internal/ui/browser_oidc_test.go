package ui_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/oidcfake"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// A ministry's administrator sets up the ministry's identity provider on
// the administration page; a ministry's officer types their e-mail on
// certdesk's sign-in page (scripts off: a plain form), is sent to the
// provider and comes back signed in. axe-core on every page, screenshots
// at 1280 and 390 px, German and dark.
func TestBrowserOIDCSignIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}}})
	ctx := context.Background()
	require.NoError(t, w.h.App.Orgs.Create(ctx, org.Actor{System: true, Name: "certdesk"}, &org.Organization{Slug: "ministry",
		Name: "Federal Ministry of the Interior", Kind: org.LocalAuthority, ContactEmail: "it@ministry.example", TimeZone: "Europe/Berlin"}, "national"))
	m, err := w.h.App.Store.OrganizationBySlug(ctx, "ministry")
	require.NoError(t, err)
	for _, u := range []identity.NewUser{
		{OrgID: m.ID, Email: "it-admin@ministry.example", Name: "Ines Admin", Role: access.Admin, Password: password},
		{OrgID: m.ID, Email: "officer@ministry.example", Name: "Otto Officer", Role: access.Reporter},
	} {
		_, err := w.h.App.Identity.CreateUser(ctx, access.System, u)
		require.NoError(t, err)
	}
	idp := oidcfake.New("certdesk", "ministry-client-secret", t.Cleanup)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string, dark bool) {
		t.Helper()
		b.look(dark, 1280)
		require.Zero(t, eval[int](b, `document.querySelectorAll("script:not([src]), style, [style]").length`), "no inline script or style (CSP)")
		b.axe(name)
		b.screenshot(dir, name+"-1280")
		b.look(dark, 390)
		b.screenshot(dir, name+"-390")
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s scrolls sideways on a phone", name)
		b.look(false, 1280)
	}

	// The administrator sets the provider up (with a mistake first).
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn("it-admin@ministry.example", password))
	require.EqualValues(t, http.StatusOK, b.open("/admin/identity-provider"))
	require.Contains(t, b.text("#redirect-uri"), w.h.URL+"/signin/oidc/callback")
	shot("1-admin-empty", false)
	b.fill("#issuer", idp.Issuer(), "#client_id", "certdesk", "#domains", "ministry.example\ncity-north.example")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`button[value="save"]`))
	require.Contains(t, b.text(".error-summary"), "Another organisation uses city-north.example")
	require.Contains(t, b.text(".error-summary"), "Enter the client secret")
	shot("2-admin-error", false)
	b.fill("#client_secret", "ministry-client-secret", "#domains", "ministry.example")
	require.EqualValues(t, http.StatusOK, b.submit(`button[value="save"]`))
	require.Contains(t, b.text("#sso-state"), "On, for ministry.example")
	require.Empty(t, eval[string](b, `document.querySelector("#client_secret").value`))
	require.NotContains(t, eval[string](b, "document.documentElement.outerHTML"), "ministry-client-secret")
	shot("3-admin-saved", true)
	b.submit(`.signout-form button`)

	// The officer signs in through the provider, with scripts off.
	require.EqualValues(t, http.StatusOK, b.open("/signin?return=%2Freports"))
	require.Zero(t, eval[int](b, `document.querySelectorAll("#password").length`), "the e-mail first")
	shot("4-signin", false)
	b.scripts(false)
	require.EqualValues(t, http.StatusOK, b.open("/signin?return=%2Freports"))
	b.fill("#email", "officer@ministry.example")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/signin"] button[type=submit]`))
	// The page that sends the browser on (a refresh: the form may not end
	// at another site), then the provider, then back.
	b.waitForPath("/reports")
	require.Equal(t, 1, idp.Authorized(), "the browser went through the provider")
	require.Contains(t, b.text("body"), "Otto Officer")
	b.scripts(true)

	// German: another domain gets the password; the provider down, a
	// clear page.
	b.submit(`.signout-form button`)
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	shot("5-signin-de", true)
	b.fill("#email", "reporter@city-north.example")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/signin"] button[type=submit]`))
	require.Equal(t, "reporter@city-north.example", eval[string](b, `document.querySelector("#email").value`))
	shot("6-password-step-de", false)
	idp.Set(oidcfake.Knobs{Down: true})
	b.open("/signin")
	b.fill("#email", "officer@ministry.example")
	require.EqualValues(t, http.StatusBadGateway, b.submit(`form[action="/signin"] button[type=submit]`))
	require.True(t, strings.Contains(b.text("h1"), "Anmeldung über Ihre Organisation"), b.text("h1"))
	shot("7-provider-down-de", false)
}

// waitForPath waits until the tab is at path (a page that moves on by
// itself), polling with a deadline.
func (b *tab) waitForPath(path string) {
	b.t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for b.location() != path {
		select {
		case <-tick.C:
		case <-deadline:
			b.t.Fatalf("the tab stayed at %s, not %s", b.location(), path)
		}
	}
}
