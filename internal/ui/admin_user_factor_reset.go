package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// factorResetIssuedView is the page that shows a factor reset link once.
type factorResetIssuedView struct {
	User    *identity.User
	Link    string
	Expires string
}

// adminUserFactorReset issues a one-time link that removes the user's
// second factors (session.Service.IssueFactorReset; earlier unused links
// become void; audited) and shows it once. For administrators of the
// user's organisation or one above it; another's user is not found.
func (u *UI) adminUserFactorReset(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	link, l, err := u.o.Sessions.IssueFactorReset(c.Request().Context(), p, target.ID, u.o.BaseURL)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_factor_reset", "factors.reset_issued.title", displayName(target))
	pg.Data = factorResetIssuedView{User: target, Link: link, Expires: pg.L.DateTime(l.ExpiresAt)}
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return u.render(c, http.StatusOK, pg)
}
