package ui

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// sessionEnd ends one of the person's sessions. Ending the current one
// signs out.
func (u *UI) sessionEnd(c echo.Context) error {
	cur := current(c)
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	if err := u.o.Sessions.End(c.Request().Context(), cur.Principal, id); err != nil {
		return err
	}
	if id == cur.Session.ID {
		u.clearCookie(c, u.cookies.session)
		return c.Redirect(http.StatusSeeOther, "/signin?signedout=1")
	}
	return c.Redirect(http.StatusSeeOther, "/account/sessions?ended=1")
}
