package ui

import (
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// caseworkObservableRemove removes an observable entered by mistake; the
// timeline keeps its type and value (observable.Service.Remove:
// observable.change).
func (u *UI) caseworkObservableRemove(c echo.Context) error {
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
	if err := u.o.Observables.Remove(ctx, cur.Principal, inc.ID.String(), id); err != nil {
		return err
	}
	return caseworkDone(c, "observable_removed", "observables")
}
