package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/labstack/echo/v4"
)

// caseworkObservablePAP sets an observable's own PAP label
// (observable.Service.Update: observable.change).
func (u *UI) caseworkObservablePAP(c echo.Context) error {
	return u.caseworkObservableLabel(c, "pap", "pap.error.enum", func(p *observable.Patch, v string) {
		l := incident.PAP(v)
		p.PAP = &l
	})
}
