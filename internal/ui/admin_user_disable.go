package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// adminUserDisablePage asks before disabling a user, saying what it does:
// they can no longer sign in, every session of theirs ends, every API
// token of theirs is revoked, and their unused password links are void.
func (u *UI) adminUserDisablePage(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	pg := u.newPage(c, "admin_user_disable", "admin.disable.title", displayName(target))
	pg.Data = &adminUserView{User: target, Self: target.ID == p.UserID}
	return u.render(c, http.StatusOK, pg)
}

// adminUserDisable disables a user (identity.Service.UpdateUser), which
// ends their sessions and revokes their tokens in the same transaction;
// or, with enable=1, enables them again (nothing ended comes back).
func (u *UI) adminUserDisable(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	target, err := u.managedUser(c, p)
	if err != nil {
		return err
	}
	disable := c.FormValue("enable") != "1"
	_, err = u.o.Identity.UpdateUser(c.Request().Context(), p, target.ID, identity.UserPatch{Disabled: &disable})
	if apperr.CodeOf(err) == apperr.Conflict {
		pg := u.newPage(c, "admin_user_disable", "admin.disable.title", displayName(target))
		pg.Errors = []fieldError{{Field: "confirm", Message: pg.L.T("admin.error.disable.self")}}
		pg.Data = &adminUserView{User: target, Self: true}
		return u.render(c, http.StatusConflict, pg)
	}
	if err != nil {
		return err
	}
	done := "disabled"
	if !disable {
		done = "enabled"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+target.ID.String()+"?done="+done)
}
