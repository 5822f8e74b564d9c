package ui

import (
	"net/http"
	"sort"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// userForm is what the new-user form sends, kept as typed.
type userForm struct {
	Name, Email, Role string
}

type adminUsersView struct {
	Org   *org.Organization // nil on /admin/users: every organisation managed
	Users []identity.User
	Orgs  map[string]string // slug → name, for the organisation column
	Form  userForm
	Roles []choice
	// Created is the user just created and the one-time link that sets
	// their password (shown once, never stored).
	Created     *identity.User
	CreatedLink string
	LinkExpires string
}

// roleChoices are the roles of the role select, in the language of l.
func roleChoices(l interface{ T(string, ...any) string }, selected string) []choice {
	out := make([]choice, 0, len(access.Roles))
	for _, r := range access.Roles {
		out = append(out, choice{Value: string(r), Label: l.T("role." + string(r)), Selected: string(r) == selected})
	}
	return out
}

// usersView lists the users the administrator manages (identity.Service.Users),
// only those of o when o is not nil.
func (u *UI) usersView(c echo.Context, p access.Principal, o *org.Organization, f userForm) (*adminUsersView, error) {
	ctx := c.Request().Context()
	all, err := u.o.Identity.Users(ctx, p)
	if err != nil {
		return nil, err
	}
	v := &adminUsersView{Org: o, Form: f, Roles: roleChoices(u.locale(c), f.Role), Orgs: map[string]string{}}
	for _, x := range all {
		if o == nil || x.OrgID == o.ID {
			v.Users = append(v.Users, x)
		}
	}
	if o == nil {
		orgs, err := u.o.Orgs.ManagedOrgs(ctx, p.OrgActor())
		if err != nil {
			return nil, err
		}
		for _, x := range orgs {
			v.Orgs[x.Slug] = x.Name
		}
		// By organisation, then as listed (by e-mail).
		sort.SliceStable(v.Users, func(i, j int) bool { return v.Orgs[v.Users[i].OrgSlug] < v.Orgs[v.Users[j].OrgSlug] })
	}
	return v, nil
}

// adminUsers lists the users of every organisation the administrator
// manages, each linking to their page.
func (u *UI) adminUsers(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	v, err := u.usersView(c, p, nil, userForm{})
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_users", "admin.users.title")
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

// adminOrgUsers lists the users of one organisation the administrator
// manages, with the form that adds one.
func (u *UI) adminOrgUsers(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	v, err := u.usersView(c, p, o, userForm{Role: string(access.Reporter)})
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_users", "admin.org_users.title", o.Name)
	switch c.QueryParam("done") {
	case "org_created":
		pg.Notice = pg.L.T("admin.orgs.created", o.Name)
	case "saved":
		pg.Notice = pg.L.T("admin.user.saved")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}
