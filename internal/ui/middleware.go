package ui

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// cookieNames are the UI's cookies. Over https they carry the __Host-
// prefix, which browsers accept only with Secure, Path=/ and no Domain:
// no other host (a sibling subdomain) can set or shadow them. Over plain
// http browsers refuse Secure cookies (localhost aside), so the names
// have no prefix there.
type cookieNames struct {
	session string // the session secret
	pre     string // the pre-session secret: the sign-in and language forms' CSRF token
	lang    string // the language chosen before signing in
}

func newCookieNames(secure bool) cookieNames {
	prefix := "certdesk-"
	if secure {
		prefix = "__Host-certdesk-"
	}
	return cookieNames{session: prefix + "session", pre: prefix + "pre", lang: prefix + "lang"}
}

// The request context's keys.
const (
	currentKey = "ui.current" // *session.Current of a signed-in request
	langKey    = "ui.lang"    // the request's language
	secretKey  = "ui.secret"  // the session or pre-session secret that CSRF tokens derive from
	endedKey   = "ui.ended"   // a session cookie came but its session had ended
	// backgroundKey marks a script's own request (a live poll): it is not
	// the person's activity.
	backgroundKey = "ui.background"
)

// current returns the signed-in person of the request, or nil.
func current(c echo.Context) *session.Current {
	cur, _ := c.Get(currentKey).(*session.Current)
	return cur
}

// requestLang returns the request's language (set by identify).
func requestLang(c echo.Context) string {
	l, _ := c.Get(langKey).(string)
	return l
}

func (u *UI) client(c echo.Context) session.Client {
	bg, _ := c.Get(backgroundKey).(bool)
	return session.Client{RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent(), Background: bg}
}

// setCookie sets one of the UI's cookies: HttpOnly, SameSite=Lax, Path=/,
// Secure over https. maxAge 0 makes a cookie that ends with the browser.
func (u *UI) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: u.secure, SameSite: http.SameSiteLaxMode})
}

func (u *UI) clearCookie(c echo.Context, name string) { u.setCookie(c, name, "", -1) }

// headers sets the headers of every UI page: a Content-Security-Policy
// that allows only the UI's own script, style and images and no inline
// code; and no caching, since pages show TLP:AMBER (or stricter) content
// and personal data.
func (u *UI) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set(echo.HeaderCacheControl, "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		return next(c)
	}
}

// contentSecurityPolicy is the pages' policy (docs/ui.md, "CSP").
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// identify finds who is asking: the session cookie's person (a bearer
// token counts for nothing here), the language, and the secret the CSRF
// tokens derive from. A cookie of an ended session is removed. Signed-out
// visitors get a pre-session cookie, so that the sign-in form has a CSRF
// token too.
func (u *UI) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := u.lookup(c); err != nil {
			return err
		}
		return next(c)
	}
}

func (u *UI) lookup(c echo.Context) error {
	if c.Get(langKey) != nil {
		return nil // already identified (an error page after the middleware ran)
	}
	var cur *session.Current
	if ck, err := c.Cookie(u.cookies.session); err == nil && ck.Value != "" {
		got, err := u.o.Sessions.Authenticate(c.Request().Context(), ck.Value, u.client(c))
		switch {
		case err == nil:
			cur = got
			c.Set(currentKey, cur)
			c.Set(secretKey, ck.Value)
		case errors.Is(err, session.ErrNoSession):
			u.clearCookie(c, u.cookies.session)
			c.Set(endedKey, true)
		default:
			return err
		}
	}
	if cur == nil {
		if ck, err := c.Cookie(u.cookies.pre); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
			c.Set(secretKey, ck.Value)
		} else if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			secret := randomSecret()
			u.setCookie(c, u.cookies.pre, secret, 0)
			c.Set(secretKey, secret)
		}
	}
	c.Set(langKey, u.chooseLang(c, cur))
	return nil
}

// chooseLang is the person's language setting, else the language chosen
// with the switch before signing in, else the browser's Accept-Language.
func (u *UI) chooseLang(c echo.Context, cur *session.Current) string {
	if cur != nil && u.o.Catalogue.Supported(cur.Settings.Language) {
		return cur.Settings.Language
	}
	if ck, err := c.Cookie(u.cookies.lang); err == nil && u.o.Catalogue.Supported(ck.Value) {
		return ck.Value
	}
	return u.o.Catalogue.Match(c.Request().Header.Get("Accept-Language"))
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// requireSignIn sends a signed-out request to the sign-in page, which
// returns it here afterwards: a page to itself, a form to the page it was
// sent from (a POST cannot be replayed). A script's request (one carrying
// X-CSRF-Token) gets 401 instead.
func (u *UI) requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if current(c) != nil {
			return next(c)
		}
		r := c.Request()
		if r.Header.Get(csrfHeader) != "" {
			return c.NoContent(http.StatusUnauthorized)
		}
		back := r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			back = refererPath(r)
		}
		q := url.Values{}
		if back = safeReturn(back); back != "" && back != "/" {
			q.Set("return", back)
		}
		if ended, _ := c.Get(endedKey).(bool); ended {
			q.Set("ended", "1")
		}
		target := "/signin"
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// refererPath is the path of a same-origin Referer, else "/".
func refererPath(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return "/"
	}
	return ref.RequestURI()
}

// safeReturn is where to go after signing in: a path of this site
// (safePath) other than the sign-in and session actions themselves.
func safeReturn(s string) string {
	s = safePath(s)
	if s == "" {
		return ""
	}
	p, _ := url.Parse(s)
	switch p.Path {
	case "/signin", "/signout", "/session/extend", "/language":
		return ""
	}
	if pendingAllowed(p.Path) && !strings.HasPrefix(p.Path, "/static/") {
		return "" // the second-factor and set-up pages themselves
	}
	return s
}

// safePath accepts only a path of this site ("/incidents/INC-…"), never
// another site ("//evil.example", "https://…", "/\evil"), so that no
// form can be made to send people elsewhere. Anything else is "".
func safePath(s string) string {
	if len(s) == 0 || len(s) > 2000 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return ""
		}
	}
	p, err := url.Parse(s)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || p.Opaque != "" {
		return ""
	}
	return s
}

// staticCache lets browsers keep the static files: their URLs carry the
// files' hash (?v=), so a changed file gets a new URL.
func staticCache(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.QueryParam("v") != "" {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
		}
		return next(c)
	}
}

// sessionCookieAge is 0: the session cookie ends with the browser, and
// the server ends the session itself (idle timeout, lifetime).
const sessionCookieAge = 0

// langCookieAge keeps a signed-out visitor's language choice for a year.
const langCookieAge = int(365 * 24 * time.Hour / time.Second)
