package ui

import (
	"net/http"
	"slices"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// managedUser is the user :id of the request when the administrator
// manages them (identity.Service.Users); the 404 page otherwise, like a
// user who does not exist.
func (u *UI) managedUser(c echo.Context, p access.Principal) (*identity.User, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "user %q not found", c.Param("id"))
	}
	all, err := u.o.Identity.Users(c.Request().Context(), p)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(x identity.User) bool { return x.ID == id })
	if i < 0 {
		return nil, apperr.New(apperr.NotFound, "user %s not found", id)
	}
	return &all[i], nil
}

// userTeam is one team of the administrator's CERT on a user's page.
type userTeam struct {
	ID, Name string
	Member   bool
}

type adminUserView struct {
	User    *identity.User
	OrgName string
	Self    bool
	Form    userForm
	Roles   []choice
	Teams   []userTeam
	// TeamsApply: the user is of the administrator's own CERT, whose
	// teams they may join.
	TeamsApply bool
	ResetLink  string
	LinkExp    string
}

// userView builds the user page of target for p.
func (u *UI) userView(c echo.Context, p access.Principal, target *identity.User, f userForm) (*adminUserView, error) {
	ctx := c.Request().Context()
	v := &adminUserView{User: target, Self: target.ID == p.UserID, Form: f, Roles: roleChoices(u.locale(c), f.Role)}
	if o, err := u.o.Orgs.GetManaged(ctx, p.OrgActor(), target.OrgSlug); err == nil {
		v.OrgName = o.Name
	}
	if target.OrgID == p.OrgID && p.Can(access.ManageTeams) {
		v.TeamsApply = true
		teams, err := u.o.Teams.List(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, t := range teams {
			member := slices.ContainsFunc(t.Members, func(m team.Member) bool { return m.UserID == target.ID })
			v.Teams = append(v.Teams, userTeam{ID: t.ID.String(), Name: t.Name, Member: member})
		}
	}
	return v, nil
}

// adminUser shows one user the administrator manages: name and role to
// change, their teams, a new password link, and disabling or enabling
// them.
func (u *UI) adminUser(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	v, err := u.userView(c, p, target, userForm{Name: target.Name, Email: target.Email, Role: string(target.Role)})
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_user", "admin.user.title", displayName(target))
	switch c.QueryParam("done") {
	case "saved":
		pg.Notice = pg.L.T("admin.user.saved")
	case "disabled":
		pg.Notice = pg.L.T("admin.user.disabled_done", displayName(target))
	case "enabled":
		pg.Notice = pg.L.T("admin.user.enabled_done", displayName(target))
	case "team":
		pg.Notice = pg.L.T("admin.user.teams_saved")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}
