package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// adminWebhookSave sets the webhook (op=save with url) or removes it
// (op=remove). A saved webhook shows the guard's verdict and its new
// signing secret, once, on the page answering the post; a URL the guard
// refuses comes back with the reason beside the field and nothing saved.
func (u *UI) adminWebhookSave(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	slug := c.Param("slug")
	raw := strings.TrimSpace(c.FormValue("url"))
	if c.FormValue("op") == "remove" {
		raw = ""
	} else if raw == "" {
		// An empty address is no way to remove (that is the remove
		// button): the field's error, after the same authorisation.
		hook, err := u.o.Notify.Webhook(ctx, p, slug)
		if err != nil {
			return outOfScope(err)
		}
		pg := u.newPage(c, "admin_webhook", "adminconf.webhook.title", hook.Org.Name)
		pg.Errors = []fieldError{{Field: "url", Message: pg.L.T("adminconf.webhook.err.url.required")}}
		pg.Data = &webhookView{Links: confLinks(p, "/admin/organisations/"+p.OrgSlug+"/webhook"), Hook: *hook,
			Action: "/admin/organisations/" + hook.Org.Slug + "/webhook"}
		return u.render(c, http.StatusUnprocessableEntity, pg)
	}
	ch, err := u.o.Notify.ConfigureWebhook(ctx, p, slug, raw)
	if ch == nil {
		return outOfScope(err)
	}
	pg := u.newPage(c, "admin_webhook", "adminconf.webhook.title", ch.Org.Name)
	v := &webhookView{Links: confLinks(p, "/admin/organisations/"+p.OrgSlug+"/webhook"), Hook: ch.OrgWebhook,
		Action: "/admin/organisations/" + ch.Org.Slug + "/webhook", Verdict: u.verdictOf(pg.L, ch.Verdict)}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
			return outOfScope(err)
		}
		// The page shows the webhook as it still is.
		if hook, herr := u.o.Notify.Webhook(ctx, p, slug); herr == nil {
			v.Hook = *hook
		}
		v.URL = c.FormValue("url")
		f := e.Fields[0]
		msg := pg.L.T("adminconf.webhook.err.url")
		switch f.Rule {
		case "refused":
			if v.Verdict != nil {
				msg = v.Verdict.Text
			}
		case "unresolved":
			msg = pg.L.T("adminconf.webhook.verdict.unresolved", ch.Verdict.Host)
		case "no_credentials", "max_length":
			msg = pg.L.T("adminconf.webhook.err.url." + f.Rule)
		}
		pg.Errors = []fieldError{{Field: "url", Message: msg}}
		pg.Data = v
		return u.render(c, http.StatusUnprocessableEntity, pg)
	}
	if !ch.Set {
		return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+slug+"/webhook?removed=1")
	}
	v.Secret = ch.Secret
	pg.Notice = pg.L.T("adminconf.webhook.saved")
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}
