package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// home sends a signed-in person to the landing page of their role, and
// anyone else to the sign-in page.
func (u *UI) home(c echo.Context) error {
	if cur := current(c); cur != nil {
		return c.Redirect(http.StatusSeeOther, landing(cur.Principal))
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}
