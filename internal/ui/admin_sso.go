package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/labstack/echo/v4"
)

// ssoView is the data of the identity provider page: the organisation's
// provider as stored (never the secret: only whether one is set) or the
// form as typed after an error.
type ssoView struct {
	OrgName string
	Config  sso.Config
	// DomainsText is Config's domains, separated by commas.
	DomainsText string
	Form        ssoForm
	Roles       []access.Role
}

// ssoForm is the form's values.
type ssoForm struct {
	Issuer, ClientID, EmailClaim, Domains string
	CreateUsers                           bool
	DefaultRole                           access.Role
}

func formOfConfig(c *sso.Config) ssoForm {
	return ssoForm{Issuer: c.Issuer, ClientID: c.ClientID, EmailClaim: c.EmailClaim, Domains: strings.Join(c.Domains, "\n"),
		CreateUsers: c.CreateUsers, DefaultRole: c.DefaultRole}
}

// adminSSO shows the administrator's own organisation's identity
// provider (docs/ui.md, "Your organisation's identity provider"): the
// redirect URI to register at the provider, and the form. Only the
// organisation's own administrators configure it: the page has no
// organisation in its address.
func (u *UI) adminSSO(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	if u.o.SSO == nil {
		return echo.ErrNotFound
	}
	cfg, err := u.o.SSO.ConfigOf(c.Request().Context(), p, p.OrgID)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_sso", "oidc.admin.title")
	switch c.QueryParam("done") {
	case "saved":
		pg.Notice = pg.L.T("oidc.admin.saved")
	case "removed":
		pg.Notice = pg.L.T("oidc.admin.removed")
	}
	pg.Data = &ssoView{OrgName: current(c).OrgName, Config: *cfg, DomainsText: strings.Join(cfg.Domains, ", "), Form: formOfConfig(cfg), Roles: access.Roles}
	return u.render(c, http.StatusOK, pg)
}
