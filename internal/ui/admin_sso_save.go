package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/labstack/echo/v4"
)

// adminSSOSave saves the organisation's identity provider (op=save) or
// removes it (op=remove). An empty secret keeps the stored one. Field
// errors come back beside the fields with nothing saved; the secret typed
// is never sent back.
func (u *UI) adminSSOSave(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	if u.o.SSO == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	if c.FormValue("op") == "remove" {
		if err := u.o.SSO.Remove(ctx, p, p.OrgID); err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/admin/identity-provider?done=removed")
	}
	f := ssoForm{Issuer: strings.TrimSpace(c.FormValue("issuer")), ClientID: strings.TrimSpace(c.FormValue("client_id")),
		EmailClaim: strings.TrimSpace(c.FormValue("email_claim")), Domains: c.FormValue("domains"),
		CreateUsers: c.FormValue("create_users") == "yes", DefaultRole: access.Role(c.FormValue("default_role"))}
	err = u.o.SSO.Save(ctx, p, p.OrgID, sso.Input{Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: c.FormValue("client_secret"),
		EmailClaim: f.EmailClaim, Domains: f.Domains, CreateUsers: f.CreateUsers, DefaultRole: f.DefaultRole})
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/identity-provider?done=saved")
	}
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return err
	}
	cfg, cerr := u.o.SSO.ConfigOf(ctx, p, p.OrgID)
	if cerr != nil {
		return cerr
	}
	pg := u.newPage(c, "admin_sso", "oidc.admin.title")
	for _, fe := range e.Fields {
		key := "oidc.admin.err." + fe.Field + "." + fe.Rule
		msg := fe.Message
		if u.o.Catalogue.Has(key) {
			msg = pg.L.T(key)
		}
		if fe.Rule == "taken" {
			msg = pg.L.T("oidc.admin.err.domains.taken", strings.TrimPrefix(fe.Message, "another organisation uses "))
		}
		pg.Errors = append(pg.Errors, fieldError{Field: fe.Field, Message: msg})
	}
	pg.Data = &ssoView{OrgName: current(c).OrgName, Config: *cfg, DomainsText: strings.Join(cfg.Domains, ", "), Form: f, Roles: access.Roles}
	return u.render(c, http.StatusUnprocessableEntity, pg)
}
