package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// taskDone marks one of the CERT's requests done (a task of the incident;
// the write table decides who may, task.write). A request the CERT
// withdrew meanwhile cannot be done: the page says so.
func (u *UI) taskDone(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	ref := c.Param("ref")
	done := task.Done
	_, err := u.o.Tasks.Update(ctx, cur.Principal, ref, c.Param("id"), task.Patch{Status: &done}, nil)
	if apperr.CodeOf(err) == apperr.Conflict {
		inc, gerr := u.o.Incidents.Get(ctx, cur.Principal, ref)
		if gerr != nil {
			return gerr
		}
		p, perr := u.incidentPage(c, inc, incidentForm{})
		if perr != nil {
			return perr
		}
		p.Errors = []fieldError{{Field: "requests", Message: p.L.T("request.error.withdrawn")}}
		return u.render(c, http.StatusConflict, p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+ref+"?done=task#requests")
}
