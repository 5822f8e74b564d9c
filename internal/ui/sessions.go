package ui

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// sessionRow is one session on the sessions page.
type sessionRow struct {
	ID           string
	Browser      string
	Method       string // how it was established: the first factor, the second and when
	Address      string
	SignedIn     template.HTML
	SignedInText string
	LastSeen     template.HTML
	Ends         template.HTML
	Current      bool
}

type sessionsView struct {
	Rows           []sessionRow
	Idle, Lifetime string
}

// sessions lists the person's sessions, each with a button that ends it.
func (u *UI) sessions(c echo.Context) error {
	cur := current(c)
	list, err := u.o.Sessions.List(c.Request().Context(), cur.Principal)
	if err != nil {
		return err
	}
	p := u.newPage(c, "sessions", "sessions.title")
	if c.QueryParam("ended") == "1" {
		p.Notice = p.L.T("sessions.ended")
	}
	v := sessionsView{Idle: p.L.Duration(u.o.Sessions.IdleTimeout()), Lifetime: p.L.Duration(u.o.Sessions.Lifetime())}
	for _, s := range list {
		browser := p.L.T("sessions.unknown_browser")
		if name, system := describeBrowser(s.UserAgent); name != "" && system != "" {
			browser = p.L.T("sessions.browser_on", name, system)
		} else if name != "" {
			browser = name
		}
		v.Rows = append(v.Rows, sessionRow{ID: s.ID.String(), Browser: browser, Method: sessionMethod(p.L, s), Address: s.RemoteAddr,
			SignedIn: p.L.WhenTime(s.CreatedAt), SignedInText: p.L.DateTime(s.CreatedAt), LastSeen: p.L.WhenTime(s.LastSeenAt),
			Ends: p.L.WhenTime(s.EndsAt(u.o.Sessions.IdleTimeout())), Current: s.ID == cur.Session.ID})
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// describeBrowser names the browser and operating system of a User-Agent
// well enough to tell one's sessions apart ("Firefox", "Windows"); ""
// when it cannot tell.
func describeBrowser(ua string) (name, system string) {
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			name = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	return name, system
}

// sessionMethod says how a session was established: its first factor,
// then its second factor and when it was last given, or that it is still
// owed.
func sessionMethod(l i18n.Locale, s session.Session) string {
	m := string(s.Method)
	if m == "" {
		m = string(session.MethodPassword)
	}
	out := l.T("sessions.method." + m)
	switch {
	case s.Pending != session.PendingNone:
		out += " (" + l.T("sessions.pending") + ")"
	case s.SecondFactor != "" && s.Method != session.MethodPasskey && s.SecondFactorAt != nil:
		out += " " + l.T("sessions.factor_at", l.T("sessions.factor."+string(s.SecondFactor)), l.DateTime(*s.SecondFactorAt))
	}
	return out
}
