package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"

	"github.com/labstack/echo/v4"
)

// run shows one playbook run of an incident: its step graph (an SVG drawn
// here, with a list of the same steps beside it), the forms of the steps
// that wait for a person, its history, and cancel. A run or an incident
// the person may not see is the 404 page.
func (u *UI) run(c echo.Context) error {
	inc, r, err := u.runOf(c)
	if err != nil {
		return err
	}
	p, err := u.runPage(c, inc, r, nil, nil)
	if err != nil {
		return err
	}
	p.Notice = runNotice(p.L, c.QueryParam("done"))
	return u.render(c, http.StatusOK, p)
}

// runOf reads the incident of the path (:ref) and its run (:id) as the
// person may see them: either missing is the 404 page.
func (u *UI) runOf(c echo.Context) (*incident.Incident, *runbook.Run, error) {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, c.Param("ref"))
	if err != nil {
		return nil, nil, err
	}
	r, err := u.o.Runs.Get(ctx, pr, inc.ID.String(), c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	return inc, r, nil
}

// runStepOf is runOf and the run's step :step, which must be a step of
// the given action (an input, an approval): any other is the 404 page.
func (u *UI) runStepOf(c echo.Context, action string) (*incident.Incident, *runbook.Run, *playbook.Step, error) {
	inc, r, err := u.runOf(c)
	if err != nil {
		return nil, nil, nil, err
	}
	def, err := u.stepDef(r, c.Param("step"))
	if err != nil {
		return nil, nil, nil, err
	}
	if def.Action != action {
		return nil, nil, nil, apperr.New(apperr.NotFound, "step %s is not an %s step", def.ID, action)
	}
	return inc, r, def, nil
}

// runNotice is the status message after an action on a run (?done=…).
func runNotice(l i18n.Locale, done string) string {
	switch done {
	case "started", "cancelled", "answered", "approved", "rejected":
		return l.T("runs.done." + done)
	}
	return ""
}
