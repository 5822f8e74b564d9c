package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// runCancel cancels a running run (runbook.Service.Cancel): its waiting
// and scheduled steps end. Whom the write table allows playbook.run
// cancels; others get the 403 page, people who may not see the incident
// the 404 page. A run that has ended already is shown as it is.
func (u *UI) runCancel(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	_, err := u.o.Runs.Cancel(ctx, pr, c.Param("ref"), c.Param("id"))
	path := "/incidents/" + c.Param("ref") + "/runs/" + c.Param("id")
	switch {
	case apperr.Is(err, apperr.Conflict):
		return c.Redirect(http.StatusSeeOther, path)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, path+"?done=cancelled")
}
