package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// caseworkShareEnd ends the incident's share with an organisation (:id is
// its slug), for a reason that the timeline and the audit log keep
// (incident.Service.EndShareWith: incident.share). Without a reason the
// form comes back; an escalation ends in its own workflow (409).
func (u *UI) caseworkShareEnd(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	slug := c.Param("id")
	form := caseworkForm{Target: "end-" + slug, Reason: c.FormValue("reason")}
	err = u.o.Incidents.EndShareWith(ctx, cur.Principal, inc.ID.String(), slug, form.Reason)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, err, "end-"+slug+"-")
	case apperr.Conflict:
		return u.caseworkAgain(c, form, http.StatusConflict, nil, "",
			fieldError{Field: "end-" + slug + "-reason", Message: u.locale(c).T("casework.error.escalation")})
	}
	if err != nil {
		return err
	}
	return caseworkDone(c, "share_ended", "circle")
}
