package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchTLPSave changes the incident's TLP, confirmed on the page that
// said who gains and who loses sight of it, with the version that page
// was built from.
func (u *UI) workbenchTLPSave(c echo.Context) error {
	form := workbenchForm{TLP: c.FormValue("tlp")}
	t := incident.TLP(form.TLP)
	_, err := u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"), incident.Patch{TLP: &t}, formVersion(c))
	return u.workbenchAnswer(c, err, "tlp", form, map[string]string{"tlp": "wb-tlp"}, "wb-tlp")
}
