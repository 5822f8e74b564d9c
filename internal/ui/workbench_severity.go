package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchSeverity changes the incident's severity.
func (u *UI) workbenchSeverity(c echo.Context) error {
	form := workbenchForm{Severity: c.FormValue("severity")}
	s := incident.Severity(form.Severity)
	_, err := u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"), incident.Patch{Severity: &s}, formVersion(c))
	return u.workbenchAnswer(c, err, "severity", form, map[string]string{"severity": "wb-severity"}, "wb-severity")
}
