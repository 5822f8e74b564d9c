package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// adminUserCreate adds a user to an organisation the administrator
// manages (identity.Service.CreateUserIn) and issues the one-time link
// that lets them set their password (identity.Service.IssueResetLink):
// the page shows it once, for the administrator to pass on.
func (u *UI) adminUserCreate(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	o, err := u.managedOrg(c, p)
	if err != nil {
		return err
	}
	f := userForm{Name: strings.TrimSpace(c.FormValue("name")), Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role")}
	ctx := c.Request().Context()
	created, err := u.o.Identity.CreateUserIn(ctx, p, o.Slug, identity.NewUser{Name: f.Name, Email: f.Email, Role: access.Role(f.Role)})
	pg := u.newPage(c, "admin_users", "admin.org_users.title", o.Name)
	status := http.StatusOK
	if err != nil {
		if pg.Errors, err = u.adminFormErrors(pg.L, err, "", nil); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	keep := f
	if err == nil && created != nil {
		keep = userForm{Role: f.Role}
	}
	v, verr := u.usersView(c, p, o, keep)
	if verr != nil {
		return verr
	}
	if status == http.StatusOK {
		link, l, err := u.o.Identity.IssueResetLink(ctx, p, created.ID.String())
		if err != nil {
			return err
		}
		v.Created, v.CreatedLink, v.LinkExpires = created, link, pg.L.DateTime(l.ExpiresAt)
		pg.Notice = pg.L.T("admin.user.created", displayName(created))
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
	}
	pg.Data = v
	return u.render(c, status, pg)
}

// displayName is a user's name, or their e-mail address without one.
func displayName(u *identity.User) string {
	if strings.TrimSpace(u.Name) != "" {
		return u.Name
	}
	return u.Email
}
