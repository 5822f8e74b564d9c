package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// caseworkTaskAssign changes a task's person, team and due time at once
// (task.Service.Update: task.write); an empty choice removes the person,
// the team or the due time. Errors come back beside the task's form,
// opened, with what was chosen.
func (u *UI) caseworkTaskAssign(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	id := c.Param("id")
	form := caseworkForm{Target: "task-" + id, TaskAssignee: c.FormValue("assignee"), TaskTeam: c.FormValue("team"), TaskDue: c.FormValue("due")}
	l := u.locale(c)
	due, ok := parseDue(l, form.TaskDue)
	if !ok {
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "task-" + id + "-due", Message: l.T("casework.error.due_at.format")})
	}
	patch := task.Patch{Assignee: &form.TaskAssignee, AssigneeTeam: &form.TaskTeam, DueAt: due, ClearDueAt: due == nil}
	_, err = u.o.Tasks.Update(ctx, cur.Principal, inc.ID.String(), id, patch, nil)
	if apperr.CodeOf(err) == apperr.Invalid {
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, taskFieldsRenamed(err), "task-"+id+"-")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=task_assigned#task-"+id)
}
