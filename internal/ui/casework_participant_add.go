package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// caseworkParticipantAdd names a person, by e-mail, as a participant of
// the incident: they see it whatever its TLP and their organisation
// (incident.Service.AddParticipant: incident.share, on TLP:RED
// incident.participant_red). An unknown address comes back with the
// address typed; a person outside a TLP:AMBER+STRICT incident's circle is
// refused with the reason (409).
func (u *UI) caseworkParticipantAdd(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	form := caseworkForm{Target: "participant", Email: c.FormValue("email")}
	_, err = u.o.Incidents.AddParticipant(ctx, cur.Principal, inc.ID.String(), form.Email)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, err, "participant-")
	case apperr.Conflict:
		return u.caseworkAgain(c, form, http.StatusConflict, nil, "",
			fieldError{Field: "participant-email", Message: u.locale(c).T("casework.error.email.circle")})
	}
	if err != nil {
		return err
	}
	return caseworkDone(c, "participant_added", "circle")
}
