package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/i18n"

	"github.com/labstack/echo/v4"
)

// run shows one playbook run of an incident: its step graph (an SVG drawn
// here, with a list of the same steps beside it), the forms of the steps
// that wait for a person, its history, and cancel. A run or an incident
// the person may not see is the 404 page.
func (u *UI) run(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, c.Param("ref"))
	if err != nil {
		return err
	}
	r, err := u.o.Runs.Get(ctx, pr, inc.ID.String(), c.Param("id"))
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

// runNotice is the status message after an action on a run (?done=…).
func runNotice(l i18n.Locale, done string) string {
	switch done {
	case "started", "cancelled", "answered", "approved", "rejected":
		return l.T("runs.done." + done)
	}
	return ""
}
