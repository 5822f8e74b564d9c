package ui

import (
	"github.com/labstack/echo/v4"
)

// workbenchReopen opens a closed incident again; the reason is recorded.
func (u *UI) workbenchReopen(c echo.Context) error {
	form := workbenchForm{ReopenReason: c.FormValue("reason")}
	_, err := u.o.Incidents.Reopen(c.Request().Context(), current(c).Principal, c.Param("ref"), form.ReopenReason, formVersion(c))
	return u.workbenchAnswer(c, err, "reopen", form, map[string]string{"reason": "wb-reopen-reason"}, "wb-reopen-reason")
}
