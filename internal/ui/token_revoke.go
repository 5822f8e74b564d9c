package ui

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// tokenRevoke revokes one of the person's API tokens
// (identity.Service.RevokeToken); another person's token is the 404 page.
func (u *UI) tokenRevoke(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	if err := u.o.Identity.RevokeToken(c.Request().Context(), current(c).Principal, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/tokens?done=revoked")
}
