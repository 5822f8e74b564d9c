package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchStage moves the incident to another stage; going back needs a
// reason (incident.CheckTransition), going forward may have one.
func (u *UI) workbenchStage(c echo.Context) error {
	form := workbenchForm{Stage: c.FormValue("stage"), StageReason: c.FormValue("reason")}
	_, err := u.o.Incidents.Transition(c.Request().Context(), current(c).Principal, c.Param("ref"),
		incident.Stage(form.Stage), form.StageReason, formVersion(c))
	return u.workbenchAnswer(c, err, "stage", form, map[string]string{"to": "wb-stage", "reason": "wb-stage-reason"}, "wb-stage")
}
