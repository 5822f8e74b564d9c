package ui

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// adminTeamCreate creates a team (team.Service.Create).
func (u *UI) adminTeamCreate(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	if _, err := u.o.Teams.Create(c.Request().Context(), p, name); err != nil {
		errs, err := u.adminFormErrors(u.locale(c), err, "team.", map[string]string{"name": "team_name"})
		if err != nil {
			return err
		}
		return u.renderTeams(c, p, http.StatusUnprocessableEntity, errs, map[string]string{"team_name": name})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/teams?done=created")
}

// adminTeamRename renames a team of the administrator's CERT; another
// organisation's team is the 404 page.
func (u *UI) adminTeamRename(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	id, name := c.Param("id"), c.FormValue("name")
	if _, err := u.o.Teams.Rename(c.Request().Context(), p, id, name); err != nil {
		field := "name-" + id
		errs, err := u.adminFormErrors(u.locale(c), err, "team.", map[string]string{"name": field})
		if err != nil {
			return err
		}
		return u.renderTeams(c, p, http.StatusUnprocessableEntity, errs, map[string]string{field: name})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/teams?done=renamed")
}

// adminTeamMemberAdd adds a user of the CERT to a team by e-mail
// address; return, an administration page, is where to go afterwards.
func (u *UI) adminTeamMemberAdd(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	id, email := c.Param("id"), strings.TrimSpace(c.FormValue("email"))
	if _, err := u.o.Teams.AddMember(c.Request().Context(), p, id, email); err != nil {
		field := "email-" + id
		errs, err := u.adminFormErrors(u.locale(c), err, "team.", map[string]string{"email": field})
		if err != nil {
			return err
		}
		return u.renderTeams(c, p, http.StatusUnprocessableEntity, errs, map[string]string{field: email})
	}
	return c.Redirect(http.StatusSeeOther, adminReturn(c, "/admin/teams?done=members"))
}

// adminTeamMemberRemove removes a member from a team.
func (u *UI) adminTeamMemberRemove(c echo.Context) error {
	p, err := teamsPrincipal(c)
	if err != nil {
		return err
	}
	if _, err := u.o.Teams.RemoveMember(c.Request().Context(), p, c.Param("id"), c.Param("user")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, adminReturn(c, "/admin/teams?done=members"))
}

// adminReturn is the form's return address when it is a user's
// administration page (with ?done=team), else def.
func adminReturn(c echo.Context, def string) string {
	r := c.FormValue("return")
	if strings.HasPrefix(r, "/admin/users/") && !strings.ContainsAny(r, "?#\\") && !strings.Contains(r, "//") {
		return r + "?done=team#teams"
	}
	return def
}
