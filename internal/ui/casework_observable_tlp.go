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
	return u.caseworkObservableLabel(c, "tlp", "casework.error.tlp.looser", func(p *observable.Patch, v string) {
		t := incident.TLP(v)
		p.TLP = &t
	})
}

// caseworkObservableLabel sets one label of an observable (field "tlp"
// or "pap": the form's field and set's part of the patch) through
// observable.Service.Update; a value refused comes back on the incident
// page on the observable's field with the message msgKey.
func (u *UI) caseworkObservableLabel(c echo.Context, field, msgKey string, set func(p *observable.Patch, v string)) error {
	cur := current(c)
	inc, id, err := u.caseworkObservable(c)
	if err != nil {
		return err
	}
	var patch observable.Patch
	set(&patch, c.FormValue(field))
	_, err = u.o.Observables.Update(c.Request().Context(), cur.Principal, inc.ID.String(), id, patch)
	if apperr.CodeOf(err) == apperr.Invalid {
		return u.caseworkAgain(c, caseworkForm{}, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observable-" + id.String() + "-" + field, Message: u.locale(c).T(msgKey)})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=observable_"+field+"#observables")
}

// caseworkObservable reads the incident in :ref as the person sees it
// and the observable ID in :id (malformed: not found).
func (u *UI) caseworkObservable(c echo.Context) (*incident.Incident, uuid.UUID, error) {
	inc, err := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return nil, uuid.Nil, err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return nil, uuid.Nil, apperr.New(apperr.NotFound, "observable %q not found", c.Param("id"))
	}
	return inc, id, nil
}
