package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// adminUserResetLink issues a one-time link for the user to set a new
// password (identity.Service.IssueResetLink; earlier unused links become
// void) and shows it once on the user's page.
func (u *UI) adminUserResetLink(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	link, l, err := u.o.Identity.IssueResetLink(c.Request().Context(), p, target.ID.String())
	if err != nil {
		return err
	}
	v, err := u.userView(c, p, target, userForm{Name: target.Name, Email: target.Email, Role: string(target.Role)})
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_user", "admin.user.title", displayName(target))
	v.ResetLink, v.LinkExp = link, pg.L.DateTime(l.ExpiresAt)
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}
