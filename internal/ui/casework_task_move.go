package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// caseworkTaskMove moves a task to another column of the board: in
// progress, done, cancelled, or reopened (task.Service.Update: task.write).
// A move the task's status does not allow (it changed meanwhile) comes
// back with the reason (409).
func (u *UI) caseworkTaskMove(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	st := task.Status(c.FormValue("status"))
	_, err = u.o.Tasks.Update(ctx, cur.Principal, inc.ID.String(), c.Param("id"), task.Patch{Status: &st}, nil)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, caseworkForm{}, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "tasks", Message: u.locale(c).T("casework.error.status.enum")})
	case apperr.Conflict:
		return u.caseworkAgain(c, caseworkForm{}, http.StatusConflict, nil, "",
			fieldError{Field: "tasks", Message: u.locale(c).T("casework.error.move")})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=task_moved#task-"+c.Param("id"))
}
