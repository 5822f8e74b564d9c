package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchPAP sets the incident's PAP label (incident.Service.Update:
// incident.update), with a field_changed event on its timeline.
func (u *UI) workbenchPAP(c echo.Context) error {
	form := workbenchForm{PAP: c.FormValue("pap")}
	p := incident.PAP(form.PAP)
	_, err := u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"), incident.Patch{PAP: &p}, formVersion(c))
	return u.workbenchAnswer(c, err, "pap", form, map[string]string{"pap": "wb-pap"}, "wb-pap")
}
