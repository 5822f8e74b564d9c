package ui

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/labstack/echo/v4"
)

// webhookView is the data of an organisation's webhook page.
type webhookView struct {
	Links   []confLink
	Hook    notify.OrgWebhook
	Action  string
	URL     string // as typed
	Secret  string // the new secret, shown once
	Verdict *verdictView
	Removed bool
}

// verdictView is the guard's answer about a URL, in words.
type verdictView struct {
	Allowed bool
	Text    string
	Addrs   []string
}

// adminWebhook shows an organisation's webhook: whether it has one and
// where it goes (scheme and host only), and the form to set or remove it.
func (u *UI) adminWebhook(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	hook, err := u.o.Notify.Webhook(c.Request().Context(), p, c.Param("slug"))
	if err != nil {
		return outOfScope(err)
	}
	pg := u.newPage(c, "admin_webhook", "adminconf.webhook.title", hook.Org.Name)
	v := &webhookView{Links: confLinks(p, "/admin/organisations/"+p.OrgSlug+"/webhook"), Hook: *hook,
		Action: "/admin/organisations/" + hook.Org.Slug + "/webhook"}
	if c.QueryParam("removed") == "1" {
		pg.Notice = pg.L.T("adminconf.webhook.removed")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

var reasonKeyRE = regexp.MustCompile(`[^a-z0-9]+`)

// verdictOf writes the guard's verdict in the reader's language.
func (u *UI) verdictOf(l i18n.Locale, v *outbound.Verdict) *verdictView {
	if v == nil || v.Host == "" {
		return nil
	}
	out := &verdictView{Allowed: v.Allowed()}
	for _, a := range v.Addrs {
		out.Addrs = append(out.Addrs, a.String())
	}
	switch {
	case v.Refused != nil:
		out.Text = l.T("adminconf.webhook.verdict.refused", v.Host, v.Refused.Addr.String(), u.reasonText(l, v.Refused.Reason))
	case v.Err != nil:
		out.Text = l.T("adminconf.webhook.verdict.unresolved", v.Host)
	default:
		out.Text = l.T("adminconf.webhook.verdict.allowed", v.Host, strings.Join(out.Addrs, ", "))
	}
	return out
}

// reasonText names the kind of a refused address ("private",
// "loopback") in the reader's language; a kind the catalogue lacks is
// shown as the guard names it.
func (u *UI) reasonText(l i18n.Locale, reason string) string {
	key := "adminconf.webhook.reason." + strings.Trim(reasonKeyRE.ReplaceAllString(strings.ToLower(reason), "_"), "_")
	if u.o.Catalogue.Has(key) {
		return l.T(key)
	}
	return reason
}
