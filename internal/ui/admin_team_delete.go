package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// adminTeamDeletePage asks before deleting a team of the administrator's
// CERT (another organisation's team is the 404 page).
func (u *UI) adminTeamDeletePage(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	t, err := u.o.Teams.Get(c.Request().Context(), p, c.Param("id"))
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_team_delete", "admin.team_delete.title", t.Name)
	pg.Data = t
	return u.render(c, http.StatusOK, pg)
}

// adminTeamDelete deletes a team (team.Service.Delete); a team with open
// work stays, and the page says to assign the work elsewhere first.
func (u *UI) adminTeamDelete(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := u.o.Teams.Get(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	err = u.o.Teams.Delete(ctx, p, t.ID.String())
	if apperr.CodeOf(err) == apperr.Conflict {
		pg := u.newPage(c, "admin_team_delete", "admin.team_delete.title", t.Name)
		pg.Errors = []fieldError{{Field: "confirm", Message: pg.L.T("admin.error.team.open_work")}}
		pg.Data = t
		return u.render(c, http.StatusConflict, pg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/teams?done=deleted")
}
