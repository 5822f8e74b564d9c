package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/labstack/echo/v4"
)

// teamsPrincipal is the signed-in administrator of a CERT (teams are a
// CERT's: access.ManageTeams); 403 for anyone else.
func teamsPrincipal(c echo.Context) (access.Principal, error) {
	p, err := adminPrincipal(c)
	if err != nil {
		return p, err
	}
	if !p.Can(access.ManageTeams) {
		return p, apperr.New(apperr.Forbidden, "only CERTs have teams")
	}
	return p, nil
}

type adminTeamsView struct {
	Teams []team.Team
	// Typed keeps what a form that came back with an error sent, by
	// field id ("team_name", "name-<team>", "email-<team>").
	Typed map[string]string
}

// renderTeams renders the teams page of p's CERT with status, the
// errors and what was typed.
func (u *UI) renderTeams(c echo.Context, p access.Principal, status int, errs []fieldError, typed map[string]string) error {
	teams, err := u.o.Teams.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_teams", "admin.teams.title")
	pg.Errors = errs
	switch c.QueryParam("done") {
	case "created":
		pg.Notice = pg.L.T("admin.teams.created")
	case "renamed":
		pg.Notice = pg.L.T("admin.teams.renamed")
	case "deleted":
		pg.Notice = pg.L.T("admin.teams.deleted")
	case "members":
		pg.Notice = pg.L.T("admin.teams.members_saved")
	}
	if typed == nil {
		typed = map[string]string{}
	}
	pg.Data = adminTeamsView{Teams: teams, Typed: typed}
	return u.render(c, status, pg)
}

// adminTeams lists the teams of the administrator's CERT with their
// members, and the forms that create, rename and delete teams and add
// and remove members (team.Service).
func (u *UI) adminTeams(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	return u.renderTeams(c, p, http.StatusOK, nil, nil)
}
