package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// passwordPage shows the form to change one's own password.
func (u *UI) passwordPage(c echo.Context) error {
	return u.render(c, http.StatusOK, u.newPage(c, "password", "password.title"))
}
