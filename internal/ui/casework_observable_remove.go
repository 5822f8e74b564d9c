package ui

import (
	"github.com/labstack/echo/v4"
)

// caseworkObservableRemove removes an observable entered by mistake; the
// timeline keeps its type and value (observable.Service.Remove:
// observable.change).
func (u *UI) caseworkObservableRemove(c echo.Context) error {
	inc, id, err := u.caseworkObservable(c)
	if err != nil {
		return err
	}
	if err := u.o.Observables.Remove(c.Request().Context(), current(c).Principal, inc.ID.String(), id); err != nil {
		return err
	}
	return caseworkDone(c, "observable_removed", "observables")
}
