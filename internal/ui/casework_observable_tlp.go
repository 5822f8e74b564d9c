package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// caseworkObservableTLP sets an observable's own TLP label, never looser
// than the incident's (observable.Service.Update: observable.change).
func (u *UI) caseworkObservableTLP(c echo.Context) error {
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
	tlp := incident.TLP(c.FormValue("tlp"))
	_, err = u.o.Observables.Update(ctx, cur.Principal, inc.ID.String(), id, observable.Patch{TLP: &tlp})
	if apperr.CodeOf(err) == apperr.Invalid {
		return u.caseworkAgain(c, caseworkForm{}, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observable-" + id.String() + "-tlp", Message: u.locale(c).T("casework.error.tlp.looser")})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=observable_tlp#observables")
}
