package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchAssign assigns the incident to a person (an e-mail; empty
// removes the assignee) and a team of the person's organisation (a team's
// ID; empty removes the team), in one change with the version the form
// was built from.
func (u *UI) workbenchAssign(c echo.Context) error {
	form := workbenchForm{Assignee: c.FormValue("assignee"), Team: c.FormValue("team")}
	patch := incident.Patch{Assignee: &form.Assignee, AssigneeTeam: &form.Team}
	_, err := u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"), patch, formVersion(c))
	return u.workbenchAnswer(c, err, "assign", form, map[string]string{"assignee": "wb-assignee", "assignee_team": "wb-team"}, "wb-assignee")
}
