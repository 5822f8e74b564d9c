package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// accessibility is the accessibility statement (EU Web Accessibility
// Directive model: what works, what does not yet, how it was tested, how
// to tell us).
func (u *UI) accessibility(c echo.Context) error {
	return u.render(c, http.StatusOK, u.newPage(c, "accessibility", "a11y.title"))
}
