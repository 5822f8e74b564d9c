package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// signout ends the session on the server and removes its cookie.
func (u *UI) signout(c echo.Context) error {
	if err := u.o.Sessions.SignOut(c.Request().Context(), current(c)); err != nil {
		return err
	}
	u.clearCookie(c, u.cookies.session)
	return c.Redirect(http.StatusSeeOther, "/signin?signedout=1")
}
