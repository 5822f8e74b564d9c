package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// sessionClockJSON is the answer to app.js's "stay signed in".
type sessionClockJSON struct {
	IdleSeconds int64  `json:"idle_seconds"`
	MaxSeconds  int64  `json:"max_seconds"`
	IdleText    string `json:"idle_text"` // the warning's sentences, with the new times
	MaxText     string `json:"max_text"`
}

// sessionExtend restarts the session's idle timeout ("stay signed in").
// app.js sends it with the X-CSRF-Token header and gets the session's
// new clock as JSON; the plain form goes back to the page it came from.
func (u *UI) sessionExtend(c echo.Context) error {
	cur := current(c)
	if err := u.o.Sessions.Extend(c.Request().Context(), cur); err != nil {
		return err
	}
	if c.Request().Header.Get(csrfHeader) != "" {
		l := u.locale(c)
		clock := u.clockOf(cur, l)
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSON(http.StatusOK, sessionClockJSON{IdleSeconds: clock.IdleSeconds, MaxSeconds: clock.MaxSeconds,
			IdleText: l.T("session.warning.text", clock.IdleEnds), MaxText: l.T("session.warning.max_text", clock.MaxEnds)})
	}
	ret := safeReturn(c.FormValue("return"))
	if ret == "" {
		ret = landing(cur.Principal)
	}
	return c.Redirect(http.StatusSeeOther, ret)
}
