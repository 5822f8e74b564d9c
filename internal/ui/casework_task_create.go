package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// caseworkTaskCreate adds a task to the incident's board, assigned to a
// colleague, a team or nobody, with an optional due time typed in the
// person's time zone (task.Service.Create: task.write). A missing title,
// an unknown assignee or a malformed due time come back with the form as
// typed; a closed incident takes no new tasks (409).
func (u *UI) caseworkTaskCreate(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	form := caseworkForm{Target: "task-new", TaskTitle: c.FormValue("title"), TaskDescription: c.FormValue("description"),
		TaskAssignee: c.FormValue("assignee"), TaskTeam: c.FormValue("team"), TaskDue: c.FormValue("due")}
	l := u.locale(c)
	due, ok := parseDue(l, form.TaskDue)
	if !ok {
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "task-due", Message: l.T("casework.error.due_at.format")})
	}
	_, err = u.o.Tasks.Create(ctx, cur.Principal, inc.ID.String(), task.NewTask{Title: form.TaskTitle, Description: form.TaskDescription,
		Assignee: form.TaskAssignee, AssigneeTeam: form.TaskTeam, DueAt: due})
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, taskFieldsRenamed(err), "task-")
	case apperr.Conflict:
		return u.caseworkAgain(c, form, http.StatusConflict, nil, "", fieldError{Field: "task-title", Message: l.T("casework.error.closed")})
	}
	if err != nil {
		return err
	}
	return caseworkDone(c, "task_created", "tasks")
}

// taskFieldsRenamed names the task service's fields as the forms do:
// "assignee_team" is the team's select ("team").
func taskFieldsRenamed(err error) error {
	if e, ok := apperr.As(err); ok {
		for i := range e.Fields {
			if e.Fields[i].Field == "assignee_team" {
				e.Fields[i].Field = "team"
			}
		}
	}
	return err
}
