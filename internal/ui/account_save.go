package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/settings"
	"github.com/labstack/echo/v4"
)

// accountSave saves the person's settings. Errors come back on the same
// page, with the answers given and an error summary.
func (u *UI) accountSave(c echo.Context) error {
	cur := current(c)
	in := settings.Settings{Language: c.FormValue("language"), TimeZone: c.FormValue("time_zone"),
		Theme: settings.Theme(c.FormValue("theme")), Shortcuts: settings.Shortcuts(c.FormValue("shortcuts"))}
	switch in.Shortcuts {
	case "default":
		in.Shortcuts = settings.RoleDefault
	case "":
		in.Shortcuts = cur.Settings.Shortcuts // a form without the choice keeps it
	}
	switch c.FormValue("email") {
	case "on":
		in.Email = true
	case "off":
		in.Email = false
	default:
		in.Email = cur.Settings.Email // a form without the choice keeps it
	}
	if _, err := u.o.Settings.Save(c.Request().Context(), cur.Principal, in); err != nil {
		p := u.newPage(c, "account", "account.title")
		if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
		p.Data = u.accountView(p.L, cur, in)
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	return c.Redirect(http.StatusSeeOther, "/account?saved=1")
}
