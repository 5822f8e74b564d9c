package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/labstack/echo/v4"
)

// resetView is the data of the password reset page.
type resetView struct {
	Email string // whose password is set
	Once  string // "This link works once, for 24 hours after it was made."
}

// resetOnce says how long a reset link works, in whole hours (or minutes
// for a lifetime under an hour).
func (u *UI) resetOnce(l i18n.Locale) string {
	d := u.o.Identity.ResetLinkLifetime()
	if d >= time.Hour {
		return l.T("reset.once_hours", int((d+30*time.Minute)/time.Hour))
	}
	return l.T("reset.once_minutes", int(d/time.Minute))
}

// The reset pages work without cookies: the link's token is the only
// credential, the page neither reads nor sets a session, and its language
// comes from ?lang=, the language cookie of an earlier choice, or the
// browser. Its address holds the token, so it is sent with
// Referrer-Policy: no-referrer.

// resetIdentify is identify for the reset pages: the language only.
func (u *UI) resetIdentify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		lang := c.QueryParam("lang")
		if !u.o.Catalogue.Supported(lang) {
			lang = u.chooseLang(c, nil)
		}
		c.Set(langKey, lang)
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// crossSite refuses a state-changing request that a browser says comes
// from another site (the CSRF check without a token, for the cookie-less
// reset form: its token is the link's).
func (u *UI) crossSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := u.cop.Check(c.Request()); err != nil {
			return errCrossSite
		}
		return next(c)
	}
}

// passwordResetPage asks for a new password, twice, for the user a reset
// link was issued to. The link is not used until the form is sent. A link
// that cannot be used (unknown, used, replaced, expired) gets a page that
// says so; failed links count against the address (429 past the limit).
func (u *UI) passwordResetPage(c echo.Context) error {
	usr, err := u.o.Identity.ResetLinkUser(c.Request().Context(), c.Param("token"), c.RealIP())
	if err != nil {
		return u.resetRefused(c, err)
	}
	p := u.resetPage(c, "password_reset", "reset.title")
	p.Data = resetView{Email: usr.Email, Once: u.resetOnce(p.L)}
	return u.render(c, http.StatusOK, p)
}

// passwordResetSave sets the new password: both entries must match and
// the password policy applies (field errors, the link stays usable); then
// the link is used up, every session of the user ends, and the page says
// it is done.
func (u *UI) passwordResetSave(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	usr, err := u.o.Identity.ResetLinkUser(ctx, token, c.RealIP())
	if err != nil {
		return u.resetRefused(c, err)
	}
	next, repeat := c.FormValue("password"), c.FormValue("password_repeat")
	p := u.resetPage(c, "password_reset", "reset.title")
	p.Data = resetView{Email: usr.Email, Once: u.resetOnce(p.L)}
	if next == "" {
		p.Errors = []fieldError{{Field: "password", Message: p.L.T("field.password.required")}}
	} else if err := identity.CheckPassword(next, usr.Email); err != nil {
		if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
	}
	if next != "" && next != repeat {
		p.Errors = append(p.Errors, fieldError{Field: "password_repeat", Message: p.L.T("field.password_repeat.match")})
	}
	if len(p.Errors) > 0 {
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	err = u.o.Identity.ResetPassword(ctx, token, next, c.RealIP())
	if apperr.CodeOf(err) == apperr.Invalid {
		if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return u.resetRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/password-reset/done?lang="+requestLang(c))
}

// passwordResetDone says the password is set and links to sign in.
func (u *UI) passwordResetDone(c echo.Context) error {
	return u.render(c, http.StatusOK, u.resetPage(c, "password_reset_done", "reset.done.title"))
}

// resetRefused answers a link that cannot be used with the page that says
// so (404, the same for every reason), and passes other errors (429, 5xx)
// on.
func (u *UI) resetRefused(c echo.Context, err error) error {
	if !errors.Is(err, identity.ErrResetLinkInvalid) {
		return err
	}
	return u.render(c, http.StatusNotFound, u.resetPage(c, "password_reset_invalid", "reset.invalid.title"))
}

// resetPage starts a reset page: no session, no cookie, a language
// switch that works by links.
func (u *UI) resetPage(c echo.Context, name, titleKey string) *page {
	p := u.newPage(c, name, titleKey)
	p.Cookieless = true
	return p
}
