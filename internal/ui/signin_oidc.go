package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/labstack/echo/v4"
)

// oidcRefusalView is the data of the page of a refused sign-in through an
// identity provider.
type oidcRefusalView struct {
	Reason          sso.Reason
	Message, Advice string
	Return          string
}

// signinDiscover is the sign-in form's e-mail step (home-realm
// discovery): a domain with an identity provider goes there; any other
// address, known or not, gets the password form. Nothing else about the
// address is revealed.
func (u *UI) signinDiscover(c echo.Context, email, ret string) error {
	p := u.newPage(c, "signin", "signin.title")
	if email == "" {
		p.Data = signinView{Return: ret, EmailFirst: true}
		p.Errors = []fieldError{{Field: "email", Message: p.L.T("signin.error.email_missing")}}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	ctx := c.Request().Context()
	browser, _ := c.Get(secretKey).(string)
	to, err := u.o.SSO.Begin(ctx, email, browser, ret, u.client(c).RemoteAddr)
	switch {
	case apperr.CodeOf(err) == apperr.RateLimited:
		p.Data = signinView{Email: email, Return: ret, EmailFirst: true}
		return u.signinThrottled(c, p, err, "oidc.signin.throttled")
	case apperr.Is(err, apperr.NotFound):
		p.Data = signinView{Email: email, Return: ret, Stepped: true, FocusPassword: true}
		return u.render(c, http.StatusOK, p)
	case sso.ReasonOf(err) != "":
		u.o.Logger.Warn("identity provider unreachable", "err", err)
		return u.oidcRefused(c, sso.ReasonOf(err), ret)
	case err != nil:
		return err
	}
	// Not a redirect: the page's Content-Security-Policy (form-action
	// 'self') forbids a form post to end at another site, so a page sends
	// the browser on (a refresh, and a link for when it does not).
	host := to
	if pu, err := url.Parse(to); err == nil {
		host = pu.Host
	}
	g := u.newPage(c, "signin_oidc_go", "oidc.go.title")
	g.Data = oidcGoView{To: to, Host: host}
	return u.render(c, http.StatusOK, g)
}

// oidcGoView is the data of the page that sends the browser on to the
// identity provider.
type oidcGoView struct {
	To   string // the provider's authorisation URL
	Host string
}

// oidcCallback is where identity providers send people back
// (<CERTDESK_BASE_URL>/signin/oidc/callback): the sign-in is checked
// (sso.Service.Finish), a session opened with method "oidc", and the
// person goes on to where they were heading. Every refusal is a page in
// the person's language, never an error of certdesk.
func (u *UI) oidcCallback(c echo.Context) error {
	if u.o.SSO == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	browser, _ := c.Get(secretKey).(string)
	if cur := current(c); cur != nil {
		// A signed-in browser's session secret is not the pre-session
		// secret the sign-in began with: such a callback cannot match.
		browser = ""
	}
	q := c.QueryParams()
	res, err := u.o.SSO.Finish(ctx, sso.Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		ErrorDesc: q.Get("error_description"), Browser: browser, RemoteAddr: c.RealIP()})
	ret := ""
	if res != nil {
		ret = safeReturn(res.ReturnTo)
	}
	if r := sso.ReasonOf(err); r != "" {
		return u.oidcRefused(c, r, ret)
	} else if err != nil {
		return err
	}
	secret, cur, err := u.o.Sessions.SignInVerified(ctx, res.UserID, session.MethodOIDC, u.client(c))
	if errors.Is(err, session.ErrBadCredentials) {
		return u.oidcRefused(c, sso.ReasonUnknownUser, ret)
	} else if err != nil {
		return err
	}
	if ck, err := c.Cookie(u.cookies.lang); err == nil && cur.Settings.Language == "" && u.o.Catalogue.Supported(ck.Value) {
		if _, err := u.o.Settings.SetLanguage(ctx, cur.Principal, ck.Value); err != nil {
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

// oidcRefused renders the page of a refused sign-in: what went wrong and
// what to do, with the status that fits (502 when the provider could not
// be reached, 400 for an answer that does not check out, 403 for a
// person certdesk does not let in).
func (u *UI) oidcRefused(c echo.Context, r sso.Reason, ret string) error {
	status := http.StatusForbidden
	switch r {
	case sso.ReasonUnreachable:
		status = http.StatusBadGateway
	case sso.ReasonState, sso.ReasonAudience, sso.ReasonExpired, sso.ReasonNonce, sso.ReasonToken:
		status = http.StatusBadRequest
	}
	key := "oidc.refused." + string(r)
	if !u.o.Catalogue.Has(key) {
		key = "oidc.refused.token"
	}
	p := u.newPage(c, "signin_oidc_error", "oidc.refused.title")
	p.Data = oidcRefusalView{Reason: r, Message: p.L.T(key), Advice: p.L.T(key + ".advice"), Return: ret}
	return u.render(c, status, p)
}
