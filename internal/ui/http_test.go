package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// The API is for machines with bearer tokens, the pages for people with
// a session cookie: a token on a page counts for nothing, and a session
// cookie on the API counts for nothing.
func TestPagesAndAPIShareNoCredentials(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	_, token := w.h.User("city-north", "reporter")

	c := newClient(t, w.h.URL)
	got := c.get("/incidents", "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/signin?return=%2Fincidents", got.header.Get("Location"), "a bearer token does not sign in to pages")

	require.Equal(t, http.StatusSeeOther, c.signIn(w.email("reporter"), password).status)
	require.Equal(t, http.StatusOK, c.get("/incidents").status)
	api := c.get("/api/v1/me")
	require.Equal(t, http.StatusUnauthorized, api.status, "a session cookie does not authenticate the API")
	require.Contains(t, api.header.Get("Content-Type"), "application/problem+json")
}

// A state-changing request is refused when the browser says it comes from
// another site, when its Origin is another site's, and without the
// session's CSRF token; the session survives all of them.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	c := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c.signIn(w.email("responder"), password).status)
	token := c.get("/incidents").csrf(t)

	for name, tc := range map[string]struct {
		form   url.Values
		header []string
	}{
		"Sec-Fetch-Site cross-site": {url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}},
		"Sec-Fetch-Site same-site":  {url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "same-site"}},
		"Origin of another site":    {url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
		"no token":                  {url.Values{}, nil},
		"another session's token":   {url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, nil},
	} {
		got := c.post("/signout", tc.form, tc.header...)
		require.Equal(t, http.StatusForbidden, got.status, name)
		require.Contains(t, got.body, "This form could not be sent", name)
		require.Equal(t, http.StatusOK, c.get("/incidents").status, "%s: still signed in", name)
	}
	// The same post from the site itself signs out; so does a script's
	// request with the token in the header.
	got := c.post("/session/extend", url.Values{}, "X-CSRF-Token", token)
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, `"idle_seconds":`)
	require.Equal(t, http.StatusSeeOther, c.post("/signout", url.Values{"csrf": {token}}).status)
	require.Equal(t, http.StatusSeeOther, c.get("/incidents").status)

	// The sign-in form has a token before any session.
	anon := newClient(t, w.h.URL)
	anon.get("/signin")
	got = anon.post("/signin", url.Values{"email": {w.email("responder")}, "password": {password}})
	require.Equal(t, http.StatusForbidden, got.status, "sign-in without the pre-session token")
	got = anon.post("/signin", url.Values{"csrf": {anon.get("/signin").csrf(t)}, "email": {w.email("responder")}, "password": {password}},
		"Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, got.status, "login CSRF from another site")
}

// A wrong password and an unknown e-mail address get the same answer:
// status, page and wording.
func TestSignInRefusalsLookTheSame(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	wrong := newClient(t, w.h.URL).signIn(w.email("reporter"), "not-the-password-1")
	unknown := newClient(t, w.h.URL).signIn("nobody@city-north.example", password)
	require.Equal(t, http.StatusUnauthorized, wrong.status)
	require.Equal(t, wrong.status, unknown.status)
	require.Contains(t, wrong.body, "The e-mail address or the password is not right")
	require.Contains(t, wrong.body, "<title>Error: Sign in – certdesk</title>")
	require.Equal(t, normalise(wrong.body, w.email("reporter"), "EMAIL"), normalise(unknown.body, "nobody@city-north.example", "EMAIL"))
	require.Empty(t, wrong.header.Values("Set-Cookie"))
	require.Empty(t, unknown.header.Values("Set-Cookie"))
}

// After ten wrong passwords the sign-in page answers 429 with
// Retry-After, even for the right password.
func TestSignInIsThrottledWith429(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	c := newClient(t, w.h.URL)
	for i := 0; i < session.AccountRule.Limit; i++ {
		require.Equal(t, http.StatusUnauthorized, c.signIn(w.email("reporter"), "not-the-password-1").status)
	}
	got := c.signIn(w.email("reporter"), password)
	require.Equal(t, http.StatusTooManyRequests, got.status)
	secs, err := strconv.Atoi(got.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, secs)
	require.Contains(t, got.body, "Too many failed sign-ins. Try again in")
	require.Empty(t, c.cookie("certdesk-session"))
}

// Signing out ends the session on the server: the old cookie, sent
// again, signs nobody in.
func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	c := newClient(t, w.h.URL)
	c.signIn(w.email("reporter"), password)
	secret := c.cookie("certdesk-session")
	require.NotEmpty(t, secret)
	token := c.get("/incidents").csrf(t)
	got := c.post("/signout", url.Values{"csrf": {token}})
	require.Equal(t, "/signin?signedout=1", got.header.Get("Location"))

	replay := newClient(t, w.h.URL)
	got = replay.get("/incidents", "Cookie", "certdesk-session="+secret)
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Equal(t, "/signin?ended=1&return=%2Fincidents", got.header.Get("Location"))
}

// Cookies: HttpOnly and SameSite=Lax always; over https Secure and the
// __Host- prefix; on plain http neither (browsers refuse Secure there).
func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	got := newClient(t, w.h.URL).signIn(w.email("reporter"), password)
	ck := findCookie(t, got.header, "certdesk-session")
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	require.False(t, ck.Secure)
	require.Equal(t, "/", ck.Path)
	require.Zero(t, ck.MaxAge, "the cookie ends with the browser; the server ends the session")

	s := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true, Config: func(c *config.Config) { c.BaseURL = "https://certdesk.example" }}})
	got = newClient(t, s.h.URL).get("/signin")
	pre := findCookie(t, got.header, "__Host-certdesk-pre")
	require.True(t, pre.Secure)
	require.True(t, pre.HttpOnly)
	require.Equal(t, "/", pre.Path)
	require.Empty(t, pre.Domain)
	form := url.Values{"csrf": {csrfRE.FindStringSubmatch(got.body)[1]}, "email": {s.email("reporter")}, "password": {password}}
	c := newClient(t, s.h.URL)
	got = c.post("/signin", form, "Cookie", "__Host-certdesk-pre="+pre.Value)
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	sess := findCookie(t, got.header, "__Host-certdesk-session")
	require.True(t, sess.Secure)
	require.True(t, sess.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, sess.SameSite)
}

func findCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	t.Fatalf("no cookie %s in %v", name, h.Values("Set-Cookie"))
	return nil
}

// Pages are sent with the CSP and never cached; static files are cached
// under their hashed URLs.
func TestPageHeaders(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	c := newClient(t, w.h.URL)
	for _, path := range []string{"/signin", "/help", "/accessibility", "/no/such/page"} {
		got := c.get(path)
		require.Equal(t, wantCSP, got.header.Get("Content-Security-Policy"), path)
		require.Equal(t, "no-store", got.header.Get("Cache-Control"), path)
		require.Equal(t, "text/html; charset=UTF-8", got.header.Get("Content-Type"), path)
	}
	c.signIn(w.email("responder"), password)
	for _, path := range []string{"/incidents", "/incidents/" + w.ref, "/account", "/account/sessions", "/account/password"} {
		got := c.get(path)
		require.Equal(t, http.StatusOK, got.status, path)
		require.Equal(t, wantCSP, got.header.Get("Content-Security-Policy"), path)
		require.Equal(t, "no-store", got.header.Get("Cache-Control"), path, "pages with TLP:AMBER content are never stored")
	}
	css := regexp.MustCompile(`/static/certdesk\.css\?v=[0-9a-f]+`).FindString(c.get("/help").body)
	require.NotEmpty(t, css)
	got := c.get(css)
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, "public, max-age=31536000, immutable", got.header.Get("Cache-Control"))
	require.Contains(t, got.header.Get("Content-Type"), "text/css")
}

// A reference that does not exist and one the person may not see get the
// same 404 page; so does a path that is no page. The API keeps
// problem+json.
func TestNotFoundIsOnePage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	c := newClient(t, w.h.URL)
	c.signIn(w.email("stranger"), password)
	hidden := c.get("/incidents/" + w.ref)
	missing := c.get("/incidents/INC-2099-999999")
	require.Equal(t, http.StatusNotFound, hidden.status)
	require.Equal(t, http.StatusNotFound, missing.status)
	require.Contains(t, hidden.body, "Page not found")
	require.Equal(t, normalise(hidden.body, w.ref, "REF"), normalise(missing.body, "INC-2099-999999", "REF"))
	require.NotContains(t, hidden.body, "Ransomware", "nothing of the incident shows")

	nopage := c.get("/no/such/page")
	require.Equal(t, http.StatusNotFound, nopage.status)
	require.Contains(t, nopage.body, "Page not found")
	require.Contains(t, nopage.body, `action="/signout"`, "the same frame as every page, signed in")

	_, token := w.h.User("city-south", "reporter")
	api := c.get("/api/v1/no-such-route", "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusNotFound, api.status)
	require.Contains(t, api.header.Get("Content-Type"), "application/problem+json")
}

// After signing in, people return to where they were heading, and only
// to a page of this site.
func TestSignInReturnsOnlyToThisSite(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	for ret, want := range map[string]string{
		"/incidents/" + w.ref:       "/incidents/" + w.ref,
		"//evil.example/phish":      "/reports", // a reporter's landing page
		"https://evil.example/":     "/reports",
		"/signout":                  "/reports",
		"/account/sessions?ended=1": "/account/sessions?ended=1",
	} {
		c := newClient(t, w.h.URL)
		form := c.get("/signin?return=" + url.QueryEscape(ret))
		got := c.post("/signin", url.Values{"csrf": {form.csrf(t)}, "email": {w.email("reporter")}, "password": {password},
			"return": {formValue(form.body, "return")}})
		require.Equal(t, want, got.header.Get("Location"), ret)
	}
}

// formValue is the value of the last field called name (the page's own
// form comes after the language switch of the header).
func formValue(body, name string) string {
	m := regexp.MustCompile(`name="`+name+`" value="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[len(m)-1][1], "&amp;", "&")
}
