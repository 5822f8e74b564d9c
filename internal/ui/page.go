package ui

import (
	"bytes"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/labstack/echo/v4"
)

// page is what the layout renders: the frame every page shares, and the
// page's own Data.
type page struct {
	Name         string // the page's template, also its body class
	Title        string // translated; the layout adds "Error: " when Errors
	Lang         string
	L            i18n.Locale
	Theme        string // "light", "dark", or "" to follow the system
	Me           *me    // nil on a page seen signed out
	Nav          []navItem
	AdminNav     []navItem // the sub-navigation of the administration pages (partials/admin_nav.html)
	CSRF         string
	Path         string // the request's path and query: where forms return to
	TLP          incident.TLP
	TLPList      bool // the page lists items of several labels: the banner names the strictest
	Errors       []fieldError
	Notice       string // a translated status message ("Your settings are saved.")
	Languages    []langChoice
	Session      sessionClock
	AssetVersion string
	// Cookieless: the page neither reads nor sets a cookie (the password
	// reset pages); its language switch is a link (?lang=) instead of a
	// form.
	Cookieless bool
	Data       any
}

// me is the signed-in person as pages show them.
type me struct {
	Name    string
	Email   string
	OrgName string
	Role    string
}

// sessionClock tells app.js when to warn before the session ends.
type sessionClock struct {
	IdleSeconds int64  // until the session ends for inactivity (or its lifetime, if sooner)
	MaxSeconds  int64  // until the end of its absolute lifetime
	IdleEnds    string // when, in words ("14:32 CET")
	MaxEnds     string
}

// fieldError is one error of a form: the field's id and a translated
// message. The error summary links to #Field.
type fieldError struct {
	Field   string
	Message string
}

// findFieldError is the template function fieldError: the error of one
// field, or nil.
func findFieldError(errs []fieldError, field string) *fieldError {
	for i := range errs {
		if errs[i].Field == field {
			return &errs[i]
		}
	}
	return nil
}

// langChoice is a language the switch offers.
type langChoice struct {
	Code     string
	Name     string // in its own language
	Selected bool
}

// newPage starts the page name, titled with the message titleKey, for the
// request: language, time zone, theme, the signed-in person and their
// navigation, the CSRF token.
func (u *UI) newPage(c echo.Context, name, titleKey string, args ...any) *page {
	lang := requestLang(c)
	p := &page{Name: name, Lang: lang, Path: c.Request().URL.RequestURI(), AssetVersion: u.assetVersion,
		CSRF: u.csrfToken(c)}
	if cur := current(c); cur != nil {
		p.Me = &me{Name: cur.UserName, Email: cur.Principal.Email, OrgName: cur.OrgName, Role: string(cur.Principal.Role)}
		if p.Me.Name == "" {
			p.Me.Name = cur.Principal.Email
		}
		if cur.Settings.Theme != settings.System {
			p.Theme = string(cur.Settings.Theme)
		}
		if cur.Session.Pending == session.PendingNone { // a pending session reaches none of the pages (factors_gate.go)
			p.Nav = navFor(cur.Principal, c.Request().URL.Path)
			u.countOpenEscalations(c, cur.Principal, p.Nav)
			p.AdminNav = adminNavFor(cur.Principal, c.Request().URL.Path)
		}
	}
	p.L = u.locale(c)
	if cur := current(c); cur != nil {
		p.Session = u.clockOf(cur, p.L)
	}
	p.Title = p.L.T(titleKey, args...)
	for _, code := range u.o.Catalogue.Languages() {
		if code != lang {
			p.Languages = append(p.Languages, langChoice{Code: code, Name: u.o.Catalogue.Printer(code).T("language.name")})
		}
	}
	return p
}

// locale is how the request's person reads times: their language, their
// time zone (their setting, else their organisation's, else UTC), now.
func (u *UI) locale(c echo.Context) i18n.Locale {
	zone := time.UTC
	if cur := current(c); cur != nil {
		zone = userZone(cur.Settings.TimeZone, cur.OrgTimeZone)
	}
	return i18n.NewLocale(u.o.Catalogue.Printer(requestLang(c)), zone, u.now())
}

// clockOf says when the current session ends, for the warning.
func (u *UI) clockOf(cur *session.Current, l i18n.Locale) sessionClock {
	idleEnd := cur.Session.EndsAt(u.o.Sessions.IdleTimeout())
	return sessionClock{IdleSeconds: secondsUntil(idleEnd, l.Now), MaxSeconds: secondsUntil(cur.Session.ExpiresAt, l.Now),
		IdleEnds: l.When(idleEnd), MaxEnds: l.When(cur.Session.ExpiresAt)}
}

func secondsUntil(t, now time.Time) int64 {
	if d := t.Sub(now); d > 0 {
		return int64(d / time.Second)
	}
	return 0
}

// userZone is the person's time zone: their setting, else their
// organisation's, else UTC.
func userZone(setting, orgZone string) *time.Location {
	for _, name := range []string{setting, orgZone} {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
}

// render writes the page with status. The page is rendered into a buffer
// first, so that a template error becomes an error page, not half a page.
func (u *UI) render(c echo.Context, status int, p *page) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := u.views.execute(buf, p.Lang, p.Name, p); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return c.Blob(status, echo.MIMETextHTMLCharsetUTF8, buf.Bytes())
}

// formErrors turns a domain validation error into the form's errors, each
// message from the catalogue: "field.<field>.<rule>", else
// "field.<field>", else a general one. Other errors are returned as they
// are.
func (u *UI) formErrors(l i18n.Locale, err error) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return nil, err
	}
	var out []fieldError
	for _, f := range e.Fields {
		key := "field." + f.Field + "." + f.Rule
		if !u.o.Catalogue.Has(key) {
			key = "field." + f.Field
		}
		if !u.o.Catalogue.Has(key) {
			key = "field.invalid"
		}
		out = append(out, fieldError{Field: f.Field, Message: l.T(key)})
	}
	return out, nil
}
