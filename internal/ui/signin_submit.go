package ui

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// signinSubmit is the sign-in form's post. The e-mail step (step=email)
// sends a person whose domain has an identity provider there
// (signinDiscover); everyone else gets the password form with their
// address filled in, whether or not it exists. With a password it checks
// the e-mail address and password. A wrong password
// and an unknown address get the same page, status and wording; so does
// every other refusal. Too many failures get the form again with 429 and
// Retry-After. Success starts a new session (a new secret, whatever
// cookie came) and goes on to where the person was heading; a language
// chosen with the switch before becomes the person's setting if they had
// none.
func (u *UI) signinSubmit(c echo.Context) error {
	email, password := strings.TrimSpace(c.FormValue("email")), c.FormValue("password")
	ret := safeReturn(c.FormValue("return"))
	if c.FormValue("step") == "email" && u.o.SSO != nil {
		return u.signinDiscover(c, email, ret)
	}
	p := u.newPage(c, "signin", "signin.title")
	p.Data = signinView{Email: email, Return: ret}
	if email == "" {
		p.Errors = append(p.Errors, fieldError{Field: "email", Message: p.L.T("signin.error.email_missing")})
	}
	if password == "" {
		p.Errors = append(p.Errors, fieldError{Field: "password", Message: p.L.T("signin.error.password_missing")})
	}
	if len(p.Errors) > 0 {
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	secret, cur, err := u.o.Sessions.SignIn(c.Request().Context(), email, password, u.client(c))
	switch {
	case errors.Is(err, session.ErrBadCredentials):
		p.Errors = []fieldError{{Field: "email", Message: p.L.T("signin.error.bad_credentials")}}
		return u.render(c, http.StatusUnauthorized, p)
	case apperr.CodeOf(err) == apperr.RateLimited:
		return u.signinThrottled(c, p, err, "signin.error.throttled")
	case err != nil:
		return err
	}
	// A language chosen before signing in becomes the person's setting,
	// unless they have one.
	if ck, err := c.Cookie(u.cookies.lang); err == nil && cur.Settings.Language == "" && u.o.Catalogue.Supported(ck.Value) {
		if _, err := u.o.Settings.SetLanguage(c.Request().Context(), cur.Principal, ck.Value); err != nil {
			return err
		}
	}
	u.setCookie(c, u.cookies.session, secret, sessionCookieAge)
	u.clearCookie(c, u.cookies.pre)
	if ret == "" {
		ret = landing(cur.Principal)
	}
	return c.Redirect(http.StatusSeeOther, ret)
}

// signinThrottled answers a sign-in refused by the throttle: the form
// again, 429 with Retry-After, and message (a key taking the time left)
// on the e-mail field.
func (u *UI) signinThrottled(c echo.Context, p *page, err error, message string) error {
	secs := 60
	if ae, ok := apperr.As(err); ok && ae.RetryAfter > 0 {
		secs = int(math.Ceil(ae.RetryAfter.Seconds()))
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	p.Errors = []fieldError{{Field: "email", Message: p.L.T(message, p.L.Duration(retryRound(secs)))}}
	return u.render(c, http.StatusTooManyRequests, p)
}
