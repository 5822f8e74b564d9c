package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/stretchr/testify/require"
)

// adminSetup is the demo world with a signed-in client per demo user
// asked for: cert-north's administrator manages cert-north and the
// cities below it; city-northbridge's administrator manages only the
// city; cert-south's administrator and everything below it are another
// organisation's.
type adminSetup struct {
	w *demoWorld
}

func newAdminSetup(t *testing.T) *adminSetup {
	t.Helper()
	return &adminSetup{w: newDemoWorld(t, nil)}
}

// as signs in the demo user <role>@<slug>.demo.
func (s *adminSetup) as(t *testing.T, role, slug string) *client {
	t.Helper()
	c := newClient(t, s.w.h.URL)
	require.Equal(t, http.StatusSeeOther, c.signIn(role+"@"+slug+".demo", app.DemoPassword).status)
	return c
}

// form posts a form with the CSRF token of the page at from.
func (c *client) form(from, path string, v url.Values) *page {
	c.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	v.Set("csrf", c.get(from).csrf(c.t))
	return c.post(path, v)
}

func TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	north := s.as(t, "admin", "cert-north")

	got := north.get("/admin")
	require.Equal(t, http.StatusOK, got.status)
	require.Contains(t, got.body, `href="/admin/organisations"`)
	require.Contains(t, got.body, "organisations without a chat channel")

	tree := north.get("/admin/organisations")
	require.Equal(t, http.StatusOK, tree.status)
	require.Contains(t, tree.body, "City of Northbridge")
	require.Contains(t, tree.body, "/admin/organisations/city-northbridge/edit")
	require.NotContains(t, tree.body, "city-southvale")
	require.NotContains(t, tree.body, "/admin/organisations/national-cert/")

	require.Contains(t, got.body, `href="/queue?tab=unassigned&amp;status=open"`)
	require.Contains(t, got.body, `href="/admin/deliveries?state=failed"`)
	require.Contains(t, got.body, "could not be delivered in the last 7 days")

	city := s.as(t, "admin", "city-northbridge")
	overview := city.get("/admin")
	require.Equal(t, http.StatusOK, overview.status)
	require.NotContains(t, overview.body, "nobody assigned", "a city does not assign work")
	require.Contains(t, overview.body, `href="/incidents?status=open&amp;deadline=at_risk"`)
	tree = city.get("/admin/organisations")
	require.Equal(t, http.StatusOK, tree.status)
	require.Contains(t, tree.body, "/admin/organisations/city-northbridge/edit")
	require.NotContains(t, tree.body, "/admin/organisations/cert-north/")
	require.NotContains(t, tree.body, "/admin/organisations/new", "a city has nothing below it to add")

	for _, role := range []string{"responder", "coordinator", "viewer", "reporter"} {
		c := s.as(t, role, "cert-north")
		for _, path := range []string{"/admin", "/admin/organisations", "/admin/organisations/new", "/admin/organisations/city-northbridge/edit"} {
			require.Equal(t, http.StatusForbidden, c.get(path).status, "%s %s", role, path)
		}
		require.NotContains(t, c.get("/incidents").body, `href="/admin"`, "no Administration link for %s", role)
	}
	require.Contains(t, north.get("/incidents").body, `href="/admin"`)
}

func TestAdminCreatesAndChangesOrganisations(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	north := s.as(t, "admin", "cert-north")

	t.Run("bad input names the field", func(t *testing.T) {
		got := north.form("/admin/organisations/new", "/admin/organisations", url.Values{"parent": {"cert-north"},
			"kind": {"local_authority"}, "name": {"City of Riverton"}, "slug": {"City Riverton"}, "chat_channel": {"#general"},
			"time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, `href="#slug"`)
		require.Contains(t, got.body, "Enter a short name of lower-case letters")
		require.Contains(t, got.body, "Enter a Slack channel ID such as C0123456789")
		require.Contains(t, got.body, `value="City of Riverton"`, "nothing typed is lost")
		_, err := s.w.h.App.Orgs.Get(ctx, access.System.OrgActor(), "city-riverton")
		require.Error(t, err)
	})
	t.Run("a slug taken", func(t *testing.T) {
		got := north.form("/admin/organisations/new", "/admin/organisations", url.Values{"parent": {"cert-north"},
			"kind": {"local_authority"}, "name": {"Again"}, "slug": {"city-northbridge"}, "time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, "Another organisation has this short name")
	})
	t.Run("below another CERT is refused", func(t *testing.T) {
		got := north.form("/admin/organisations/new", "/admin/organisations", url.Values{"parent": {"cert-south"},
			"kind": {"local_authority"}, "name": {"Intruder"}, "slug": {"city-intruder"}, "time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusForbidden, got.status)
		_, err := s.w.h.App.Orgs.Get(ctx, access.System.OrgActor(), "city-intruder")
		require.Error(t, err)
	})
	t.Run("created", func(t *testing.T) {
		got := north.form("/admin/organisations/new", "/admin/organisations", url.Values{"parent": {"cert-north"},
			"kind": {"local_authority"}, "name": {"City of Riverton"}, "slug": {"city-riverton"}, "sector": {"public-administration"},
			"time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusSeeOther, got.status, got.body)
		require.Equal(t, "/admin/organisations/city-riverton/users?done=org_created", got.header.Get("Location"))
		o, err := s.w.h.App.Orgs.Get(ctx, access.System.OrgActor(), "city-riverton")
		require.NoError(t, err)
		require.Equal(t, "cert-north", o.ParentSlug)
	})
	t.Run("changed", func(t *testing.T) {
		got := north.form("/admin/organisations/city-riverton/edit", "/admin/organisations/city-riverton", url.Values{
			"name": {"City of Riverton"}, "sector": {"public-administration"}, "chat_channel": {"C0RIVERTN1"}, "time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusSeeOther, got.status, got.body)
		o, err := s.w.h.App.Orgs.Get(ctx, access.System.OrgActor(), "city-riverton")
		require.NoError(t, err)
		require.Equal(t, "C0RIVERTN1", o.ChatChannel)
		require.Contains(t, north.get("/admin/organisations").body, "C0RIVERTN1")
	})
	t.Run("a change with a bad channel comes back", func(t *testing.T) {
		got := north.form("/admin/organisations/city-riverton/edit", "/admin/organisations/city-riverton", url.Values{
			"name": {"City of Riverton"}, "chat_channel": {"riverton"}, "time_zone": {"Europe/Berlin"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, got.body, `value="riverton"`)
		require.Contains(t, got.body, `href="#chat_channel"`)
	})
	t.Run("another organisation is the 404 page and changes nothing", func(t *testing.T) {
		require404LikeNothing(t, north, "/admin/organisations/city-southvale/edit", "city-southvale")
		got := north.form("/admin/organisations", "/admin/organisations/city-southvale", url.Values{"name": {"Taken over"}})
		require.Equal(t, http.StatusNotFound, got.status)
		o, err := s.w.h.App.Orgs.Get(ctx, access.System.OrgActor(), "city-southvale")
		require.NoError(t, err)
		require.NotEqual(t, "Taken over", o.Name)
		// The city's admin does not manage its CERT.
		city := s.as(t, "admin", "city-northbridge")
		require.Equal(t, http.StatusNotFound, city.get("/admin/organisations/cert-north/edit").status)
		require.Equal(t, http.StatusOK, city.get("/admin/organisations/city-northbridge/edit").status)
	})
}

// require404LikeNothing checks that path, naming the slug or ID of
// something of another organisation, answers the same 404 page as the
// same path naming something that does not exist.
func require404LikeNothing(t *testing.T, c *client, path, name string) {
	t.Helper()
	got := c.get(path)
	require.Equal(t, http.StatusNotFound, got.status, path)
	none := c.get(strings.Replace(path, name, "no-such-thing", 1))
	require.Equal(t, http.StatusNotFound, none.status)
	require.Equal(t, normalise(none.body, "no-such-thing", "…"), normalise(got.body, name, "…"), path)
}

// An incident nobody coordinates an hour after its report is counted on
// the overview of an administrator who may see it, and the card's link
// lists exactly it; another region's administrator does not count it.
func TestAdminOverviewCountsIncidentsWithoutACoordinator(t *testing.T) {
	t.Parallel()
	s := newAdminSetup(t)
	ctx := context.Background()
	north := s.as(t, "admin", "cert-north")
	card := regexp.MustCompile(`hygiene-count">(\d+)</span>\s*<span class="hygiene-label">open incidents? not routed`)
	count := func(c *client) string {
		t.Helper()
		m := card.FindStringSubmatch(c.get("/admin").body)
		require.NotNil(t, m, "the card is on the overview")
		return m[1]
	}
	require.Equal(t, "0", count(north))

	res, err := s.w.h.App.DB.SQL.ExecContext(ctx, `UPDATE incidents SET coordinating_org_id = NULL,
		created_at = now() - interval '2 hours' WHERE reference = $1`, s.w.ref)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	require.Equal(t, "1", count(north))
	require.Equal(t, "0", count(s.as(t, "admin", "cert-south")), "cert-south does not see cert-north's incident")

	link := regexp.MustCompile(`href="(/incidents\?[^"]*coordinating_org=none[^"]*)"`).FindStringSubmatch(north.get("/admin").body)
	require.NotNil(t, link)
	list := north.get(html.UnescapeString(link[1]))
	require.Equal(t, http.StatusOK, list.status)
	require.Contains(t, list.body, s.w.ref)
	require.Equal(t, 1, strings.Count(list.body, `<th scope="row" class="cell-key"`), "only the unrouted incident is listed")
}
