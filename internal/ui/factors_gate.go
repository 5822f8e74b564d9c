package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// The pending-session gate (docs/security.md, "Signing in: second
// factors"): a session that must still give a second factor, or set one
// up, reaches only the pages that let it do so, signing out, the language
// switch and the static files. Everything else sends the browser to the
// second-factor page or the set-up page, which return it to where it was
// heading.

// SecondFactorPath is the page that asks a pending session for its second
// factor; SetupPath the page that sets one up for a session whose
// organisation requires one.
const (
	SecondFactorPath = "/signin/second-factor"
	SetupPath        = "/account/security/setup"
)

// pendingAllowed reports whether a pending session may reach path.
func pendingAllowed(path string) bool {
	switch path {
	case "/signout", "/language", "/healthz", "/readyz":
		return true
	}
	if strings.HasPrefix(path, "/static/") {
		return true
	}
	for _, pre := range []string{SecondFactorPath, SetupPath} {
		if path == pre || strings.HasPrefix(path, pre+"/") {
			return true
		}
	}
	return false
}

// pendingPage is where a pending session goes: the set-up page or the
// second-factor page.
func pendingPage(p session.Pending) string {
	if p == session.PendingSetup {
		return SetupPath
	}
	return SecondFactorPath
}

// sensitive reports whether a request is a sensitive action, which asks
// for a recent second factor of those whose organisation requires one
// (step-up): the administration, the exports (an incident's report,
// STIX and observables, the dashboard's CSV and briefing, the queue's
// CSV), and changing an incident's TLP to CLEAR.
func sensitive(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/admin" || strings.HasPrefix(p, "/admin/"):
		return true
	case p == "/dashboard/csv" || p == "/dashboard/briefing.pdf" || p == "/queue.csv":
		return true
	case !strings.HasPrefix(p, "/incidents/"):
		return false
	}
	for _, export := range []string{"/report.pdf", "/export.stix.json", "/observables.csv"} {
		if strings.HasSuffix(p, export) {
			return true
		}
	}
	return r.Method == http.MethodPost && strings.HasSuffix(p, "/tlp") && r.PostFormValue("tlp") == string(incident.TLPClear)
}

// gate sends a pending session's requests for anything but the pages it
// may reach (pendingAllowed) to its second-factor or set-up page, with
// where it was heading as return (a page to itself, a form to the page it
// was sent from). A script's request (one carrying X-CSRF-Token) gets 401.
// A complete session's sensitive actions (sensitive) go to the
// second-factor page the same way when the person's organisation requires
// a factor of them and theirs is older than its step-up minutes.
func (u *UI) gate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cur := current(c)
		r := c.Request()
		if cur == nil || pendingAllowed(r.URL.Path) {
			return next(c)
		}
		to := ""
		if cur.Session.Pending != session.PendingNone {
			to = pendingPage(cur.Session.Pending)
		} else if sensitive(r) {
			need, err := u.o.Sessions.NeedsStepUp(r.Context(), cur)
			if err != nil {
				return err
			}
			if need {
				to = SecondFactorPath
			}
		}
		if to == "" {
			return next(c)
		}
		if r.Header.Get(csrfHeader) != "" {
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, withReturn(to, returnOf(r)))
	}
}

// returnOf is where a request was heading: the page itself, or for a
// form the page it was sent from (a POST cannot be replayed); "" when
// that is no place to return to (safeReturn).
func returnOf(r *http.Request) string {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		back = refererPath(r)
	}
	if back = safeReturn(back); back == "/" {
		return ""
	}
	return back
}

// withReturn is path with ?return=back when back is a safe place to
// return to.
func withReturn(path, back string) string {
	if back = safeReturn(back); back == "" {
		return path
	}
	return path + "?" + url.Values{"return": {back}}.Encode()
}
