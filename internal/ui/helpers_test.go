package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// password is every test user's password.
const password = "violet-tugboat-harbour-77"

// world is a small directory with one incident: a city under CERT North
// reports it (TLP:AMBER); a city under CERT South may not see it.
type world struct {
	h     *testapp.Harness
	ref   string // the incident's reference
	incID string
	// users by name: "reporter" (city-north), "responder" (cert-north),
	// "stranger" (city-south's reporter), "national" (national CERT responder)
	users map[string]*identity.User
}

func (w *world) email(name string) string { return w.users[name].Email }

type worldOpts struct {
	app testapp.Options
	// title, description and the names of the reporting city and its
	// reporter (the XSS test plants its corpus in them).
	title, description, cityName, reporterName string
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	if o.app.Playbooks == nil {
		o.app.Playbooks = testapp.NoPlaybooks
	}
	h := testapp.New(t, o.app)
	ctx := context.Background()
	mk := func(slug, name string, kind org.Kind, parent, phone string) {
		o := &org.Organization{Slug: slug, Name: name, Kind: kind, ContactEmail: "cert@" + slug + ".example",
			ContactPhone: phone, TimeZone: "Europe/Berlin"}
		require.NoError(t, h.App.Orgs.Create(ctx, org.Actor{System: true, Name: "certdesk"}, o, parent))
	}
	if o.cityName == "" {
		o.cityName = "City of Northbridge"
	}
	mk("national", "National CERT", org.NationalCERT, "", "+49 30 5550 1000")
	mk("cert-north", "CERT North", org.RegionalCERT, "national", "+49 40 5550 2000")
	mk("cert-south", "CERT South", org.RegionalCERT, "national", "+49 89 5550 3000")
	mk("city-north", o.cityName, org.LocalAuthority, "cert-north", "")
	mk("city-south", "City of Southvale", org.LocalAuthority, "cert-south", "")
	w := &world{h: h, users: map[string]*identity.User{}}
	user := func(name, slug string, role access.Role, display string) {
		got, err := h.App.Store.OrganizationBySlug(ctx, slug)
		require.NoError(t, err)
		u, err := h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: got.ID, Email: name + "@" + slug + ".example",
			Name: display, Role: role, Password: password})
		require.NoError(t, err)
		w.users[name] = u
	}
	if o.reporterName == "" {
		o.reporterName = "Ana Reporter"
	}
	user("reporter", "city-north", access.Reporter, o.reporterName)
	user("responder", "cert-north", access.Responder, "Rui Responder")
	user("stranger", "city-south", access.Reporter, "Sam Stranger")
	user("national", "national", access.Responder, "Nia National")
	if o.title == "" {
		o.title = "Ransomware encrypted file servers at city hall"
	}
	if o.description == "" {
		o.description = "Files on two file servers were renamed to `*.lockbit`; a ransom note is on every share.\n\n- servers isolated at 07:15\n- backups not yet verified"
	}
	inc, _, err := h.App.Incidents.Create(ctx, w.users["reporter"].Principal(), incident.NewIncident{Title: o.title,
		Description: o.description, Severity: incident.High, TLP: incident.TLPAmber, Significant: true,
		Category: "malicious-code", Type: "infected-system"}, nil)
	require.NoError(t, err)
	w.ref, w.incID = inc.Reference, inc.ID.String()
	if !o.app.NoWorkers {
		h.Eventually(func() bool {
			got, err := h.App.Incidents.Get(ctx, access.System, w.ref)
			return err == nil && got.CoordinatingOrgID != nil
		}, "the incident is routed")
	}
	return w
}

// client is a browser without a browser: cookies, no redirects followed,
// and the headers a same-origin form post has.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return &page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(path string, header ...string) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// post sends a form as a same-origin browser would (Origin and
// Sec-Fetch-Site); header pairs replace those.
func (c *client) post(path string, form url.Values, header ...string) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return c.do(req)
}

var (
	csrfRE        = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	dataCSRFRE    = regexp.MustCompile(`data-csrf="[^"]+"`) // the passkey sign-in's token for its script
	sessionLeftRE = regexp.MustCompile(`(data-session-(?:idle|max))="\d+"`)
)

// csrf is the CSRF token of a page.
func (p *page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF token on the page: %s", p.body)
	return m[1]
}

// signIn signs in through the form and returns the sign-in answer.
func (c *client) signIn(email, pw string) *page {
	c.t.Helper()
	form := c.get("/signin")
	return c.post("/signin", url.Values{"csrf": {form.csrf(c.t)}, "email": {email}, "password": {pw}})
}

// cookie returns the value of a cookie the client holds for the site.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// normalise removes what differs between two answers that should be the
// same: tokens, request IDs, the e-mail address typed.
func normalise(body string, replace ...string) string {
	body = csrfRE.ReplaceAllString(body, `name="csrf" value="…"`)
	body = dataCSRFRE.ReplaceAllString(body, `data-csrf="…"`)
	// The session's seconds left tick between two requests.
	body = sessionLeftRE.ReplaceAllString(body, `$1="…"`)
	for i := 0; i+1 < len(replace); i += 2 {
		body = strings.ReplaceAll(body, replace[i], replace[i+1])
	}
	return body
}

func incidentFilterAll() incident.Filter { return incident.Filter{} }

func pageOf(n int) incident.Page { return incident.Page{Limit: n} }

// signedIn is a client signed in as the world's user name.
func (w *world) signedIn(t *testing.T, name string) *client {
	t.Helper()
	c := newClient(t, w.h.URL)
	require.Equal(t, http.StatusSeeOther, c.signIn(w.email(name), password).status)
	return c
}
