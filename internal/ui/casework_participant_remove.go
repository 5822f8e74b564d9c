package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// caseworkParticipantRemove removes a named participant, for a reason
// that the timeline and the audit log keep
// (incident.Service.RemoveParticipantByID). Without a reason the form
// comes back; the reporter of a TLP:RED incident stays (409).
func (u *UI) caseworkParticipantRemove(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	id := c.Param("id")
	form := caseworkForm{Target: "remove-" + id, Reason: c.FormValue("reason")}
	err = u.o.Incidents.RemoveParticipantByID(ctx, cur.Principal, inc.ID.String(), id, form.Reason)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, err, "remove-"+id+"-")
	case apperr.Conflict:
		return u.caseworkAgain(c, form, http.StatusConflict, nil, "",
			fieldError{Field: "remove-" + id + "-reason", Message: u.locale(c).T("casework.error.red_reporter")})
	}
	if err != nil {
		return err
	}
	return caseworkDone(c, "participant_removed", "circle")
}
