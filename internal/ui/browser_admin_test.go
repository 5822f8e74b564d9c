package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// setValue sets a select's (or any field's) value by script.
func (b *tab) setValue(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[chromedp.Void](b, "document.querySelector("+jsString(sel)+").value = "+jsString(value))
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// A regional CERT's administrator sets up a new city under the CERT: the
// organisation (after a mistake), its first user with the one-time
// password link (which the new user follows to sign in), the city's chat
// channel, and the CERT's TLP:RED recipients; the city's RED page says
// only CERTs designate them. Each page is axe-clean and does not scroll
// sideways on a phone; screenshots at 1280 and 390 px.
func TestBrowserAdminSetsUpANewCity(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	ctx := context.Background()
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string) {
		t.Helper()
		for _, width := range []int64{1280, 390} {
			b.look(false, width)
			b.axe(name)
			suffix := map[int64]string{1280: "-1280", 390: "-390"}[width]
			b.screenshot(dir, name+suffix)
			if width == 390 {
				require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling on a phone", name)
			}
		}
		b.look(false, 1280)
	}
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn("admin@cert-north.demo", app.DemoPassword))
	b.do(chromedp.Click(chromedp.CSS(`.site-nav a[href="/admin"]`), chromedp.NodeVisible))
	b.do(chromedp.WaitVisible(chromedp.CSS(".hygiene")))
	require.Equal(t, "/admin", b.location())
	require.Zero(t, eval[int](b, `document.querySelectorAll("script:not([src]), style, [style]").length`), "no inline script or style (CSP)")
	shot("1-overview")

	b.open("/admin/organisations")
	require.Contains(t, b.text(".org-tree"), "City of Northbridge")
	shot("2-organisations")

	// A new city, after a mistake.
	b.do(chromedp.Click(chromedp.CSS(`a[href="/admin/organisations/new?parent=cert-north"]`), chromedp.NodeVisible))
	b.do(chromedp.WaitVisible(chromedp.CSS("#slug")))
	b.setValue("#kind", "local_authority")
	b.fill("#name", "City of Riverton", "#slug", "City of Riverton", "#chat_channel", "riverton")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`form[action="/admin/organisations"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "Enter a short name")
	require.Contains(t, b.text(".error-summary"), "Slack channel ID")
	shot("3-new-city-errors")
	b.fill("#slug", "city-riverton", "#chat_channel", "")
	b.setValue("#sector", "public-administration")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/admin/organisations"] button[type=submit]`))
	require.Equal(t, "/admin/organisations/city-riverton/users?done=org_created", b.location())
	require.Contains(t, b.text(".notice"), "City of Riverton is created")
	shot("4-new-city-users")

	// Its first user, and the one-time link.
	b.fill("#name", "Rita Riverton", "#email", "rita@city-riverton.demo")
	b.setValue("#role", "admin")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/admin/organisations/city-riverton/users"] button[type=submit]`))
	link := b.text("#new-user-link .secret")
	require.Contains(t, link, "/password-reset/")
	require.Contains(t, b.text("table"), "rita@city-riverton.demo")
	shot("5-user-added")

	// The city's chat channel.
	b.open("/admin/organisations/city-riverton/edit")
	b.fill("#chat_channel", "C0RIVERTN1")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/admin/organisations/city-riverton"] button[type=submit]`))
	require.Equal(t, "/admin/organisations?done=saved", b.location())
	require.Contains(t, b.text(".org-tree"), "C0RIVERTN1")
	shot("6-tree-with-the-city")

	// The city designates no TLP:RED recipients; its CERT does.
	b.open("/admin/organisations/city-riverton/red-recipients")
	require.Contains(t, b.text("main"), "Only CERTs designate TLP:RED recipients")
	b.open("/admin/organisations/cert-north/red-recipients")
	shot("7-red-recipients")
	b.do(chromedp.Click(chromedp.CSS(`input[value="coordinator@cert-north.demo"]`), chromedp.NodeVisible))
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/admin/organisations/cert-north/red-recipients"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The TLP:RED recipients are saved")
	require.Contains(t, b.text(".inset"), "Demo Coordinator")
	shot("8-red-recipients-saved")
	r, err := w.h.App.Incidents.RedRecipients(ctx, access.System, "cert-north")
	require.NoError(t, err)
	require.Len(t, r.Recipients, 2)

	// The user page and the disable confirmation say what happens.
	u, err := w.h.App.Identity.UserByEmail(ctx, access.System, "rita@city-riverton.demo")
	require.NoError(t, err)
	b.open("/admin/users/" + u.ID.String())
	shot("9-user")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/admin/users/`+u.ID.String()+`/disable"]`), chromedp.NodeVisible))
	b.do(chromedp.WaitVisible(chromedp.CSS("#confirm")))
	require.Contains(t, b.text("main"), "every session of theirs ends")
	shot("10-disable-confirmation")

	b.open("/account/tokens")
	b.fill("#name", "ticket system")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/account/tokens"] button[type=submit]`))
	require.True(t, strings.HasPrefix(b.text("#new-token .secret"), "cdt_"))
	shot("11-token-created")

	// The new user follows the link, sets a password and signs in.
	nb := newTab(t, w.h.URL)
	nb.look(false, 1280)
	nb.open(strings.TrimPrefix(link, w.h.URL))
	nb.fill("#password", "riverton-ferry-lantern-9", "#password_repeat", "riverton-ferry-lantern-9")
	require.EqualValues(t, http.StatusOK, nb.submit(`main form button[type=submit]`), "link %s: %s", link, nb.text("main"))
	require.True(t, strings.HasPrefix(nb.location(), "/password-reset/done"), nb.location())
	require.EqualValues(t, http.StatusOK, nb.signIn("rita@city-riverton.demo", "riverton-ferry-lantern-9"))
	nb.open("/admin/organisations")
	require.Contains(t, nb.text(".org-tree"), "City of Riverton")
	require.NotContains(t, nb.text(".org-tree"), "City of Northbridge", "the city's administrator manages the city only")
	require.EqualValues(t, http.StatusNotFound, nb.open("/admin/organisations/cert-north/edit"))
}
