package ui

import (
	"errors"
	"net/http"

	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// The factor reset pages work like the password reset pages: without
// cookies, the link's token the only credential (resetIdentify).

// factorResetPage says what using the link does, for whom, and asks to
// confirm; the link is not used until then.
func (u *UI) factorResetPage(c echo.Context) error {
	email, err := u.o.Sessions.FactorResetUser(c.Request().Context(), c.Param("token"), c.RealIP())
	if err != nil {
		return u.factorResetRefused(c, err)
	}
	p := u.resetPage(c, "factor_reset", "factors.reset.title")
	p.Data = resetView{Email: email}
	return u.render(c, http.StatusOK, p)
}

// factorResetSave uses the link: the person's app, recovery codes and
// passkeys are removed and their sessions end; the page says to sign in
// again (and set up again).
func (u *UI) factorResetSave(c echo.Context) error {
	if err := u.o.Sessions.UseFactorReset(c.Request().Context(), c.Param("token"), c.RealIP()); err != nil {
		return u.factorResetRefused(c, err)
	}
	return u.render(c, http.StatusOK, u.resetPage(c, "factor_reset_done", "factors.reset.done_title"))
}

func (u *UI) factorResetRefused(c echo.Context, err error) error {
	if !errors.Is(err, session.ErrFactorResetInvalid) {
		return err
	}
	return u.render(c, http.StatusNotFound, u.resetPage(c, "password_reset_invalid", "reset.invalid.title"))
}
