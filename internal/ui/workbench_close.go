package ui

import (
	"github.com/labstack/echo/v4"
)

// workbenchClose closes the incident with a resolution summary (its stage
// stays).
func (u *UI) workbenchClose(c echo.Context) error {
	form := workbenchForm{Resolution: c.FormValue("resolution")}
	_, err := u.o.Incidents.Close(c.Request().Context(), current(c).Principal, c.Param("ref"), form.Resolution, formVersion(c))
	return u.workbenchAnswer(c, err, "close", form, map[string]string{"resolution": "wb-resolution"}, "wb-resolution")
}
