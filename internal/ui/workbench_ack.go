package ui

import (
	"github.com/labstack/echo/v4"
)

// workbenchAcknowledge records that the CERT has taken note of the
// incident (incident.Service.Acknowledge: the first time counts, later
// ones change nothing). An incident closed before anyone acknowledged it
// comes back with the reason.
func (u *UI) workbenchAcknowledge(c echo.Context) error {
	_, err := u.o.Incidents.Acknowledge(c.Request().Context(), current(c).Principal, c.Param("ref"))
	return u.workbenchAnswer(c, err, "acknowledge", workbenchForm{}, nil, "wb-acknowledge")
}
