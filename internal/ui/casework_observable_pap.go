package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// caseworkObservablePAP sets an observable's own PAP label
// (observable.Service.Update: observable.change).
func (u *UI) caseworkObservablePAP(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "observable %q not found", c.Param("id"))
	}
	pap := incident.PAP(c.FormValue("pap"))
	_, err = u.o.Observables.Update(ctx, cur.Principal, inc.ID.String(), id, observable.Patch{PAP: &pap})
	if apperr.CodeOf(err) == apperr.Invalid {
		return u.caseworkAgain(c, caseworkForm{}, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observable-" + id.String() + "-pap", Message: u.locale(c).T("pap.error.enum")})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=observable_pap#observables")
}
