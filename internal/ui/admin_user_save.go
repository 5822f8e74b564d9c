package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// adminUserSave changes a user's name and role (identity.Service.UpdateUser).
// Administrators may not change their own role: the role field says so.
func (u *UI) adminUserSave(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	f := userForm{Name: strings.TrimSpace(c.FormValue("name")), Email: target.Email, Role: c.FormValue("role")}
	patch := identity.UserPatch{Name: &f.Name}
	if f.Role != string(target.Role) {
		r := access.Role(f.Role)
		patch.Role = &r
	}
	_, err = u.o.Identity.UpdateUser(c.Request().Context(), p, target.ID, patch)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/users/"+target.ID.String()+"?done=saved")
	}
	pg := u.newPage(c, "admin_user", "admin.user.title", displayName(target))
	if apperr.CodeOf(err) == apperr.Conflict {
		pg.Errors = []fieldError{{Field: "role", Message: pg.L.T("admin.error.role.self")}}
	} else if pg.Errors, err = u.adminFormErrors(pg.L, err, "", nil); err != nil {
		return err
	}
	v, err := u.userView(c, p, target, f)
	if err != nil {
		return err
	}
	pg.Data = v
	return u.render(c, http.StatusUnprocessableEntity, pg)
}
