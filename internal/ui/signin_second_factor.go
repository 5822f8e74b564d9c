package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// secondFactorView is the data of the second-factor page.
type secondFactorView struct {
	Return  string
	Code    bool // the person has an app or recovery codes: the code field
	Passkey bool // the person has a passkey: "Use a passkey"
	StepUp  bool // a signed-in session confirming before a sensitive action
}

// secondFactorPage asks a pending session (or one stepping up before a
// sensitive action) for a code from the app or a recovery code. A session
// that must set a factor up goes to the set-up page; one with nothing to
// give goes on.
func (u *UI) secondFactorPage(c echo.Context) error {
	v, done, err := u.secondFactorView(c)
	if err != nil || done {
		return err
	}
	p := u.newPage(c, "second_factor", "factors.second.title")
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

func (u *UI) secondFactorView(c echo.Context) (*secondFactorView, bool, error) {
	cur := current(c)
	ret := safeReturn(c.QueryParam("return"))
	if c.Request().Method == http.MethodPost {
		ret = safeReturn(c.FormValue("return"))
	}
	if cur.Session.Pending == session.PendingSetup {
		return nil, true, c.Redirect(http.StatusSeeOther, withReturn(SetupPath, ret))
	}
	st, err := u.o.Sessions.Factors(c.Request().Context(), cur.Principal.UserID)
	if err != nil {
		return nil, false, err
	}
	v := &secondFactorView{Return: ret, Code: st.TOTP || st.RecoveryLeft > 0, Passkey: st.Passkeys > 0,
		StepUp: cur.Session.Pending == session.PendingNone}
	switch {
	case v.Code || v.Passkey:
	case v.StepUp && !st.Required():
		return nil, true, c.Redirect(http.StatusSeeOther, orLanding(ret, cur)) // nothing to step up for
	default:
		// Nothing to give: a step-up of a session from before the policy,
		// or a pending session whose factors were removed meanwhile. Both
		// set one up (confirming it is their second factor).
		return nil, true, c.Redirect(http.StatusSeeOther, withReturn(SetupPath, ret))
	}
	return v, false, nil
}

func orLanding(ret string, cur *session.Current) string {
	if ret == "" {
		return landing(cur.Principal)
	}
	return ret
}

// secondFactorSubmit checks the code: right, the session is complete and
// goes on to where it was heading; wrong, the form again with the error
// on the field (401), counted like a failed sign-in (429 past the limit).
func (u *UI) secondFactorSubmit(c echo.Context) error {
	v, done, err := u.secondFactorView(c)
	if err != nil || done {
		return err
	}
	cur := current(c)
	p := u.newPage(c, "second_factor", "factors.second.title")
	p.Data = v
	code := strings.TrimSpace(c.FormValue("code"))
	if code == "" {
		p.Errors = []fieldError{{Field: "code", Message: p.L.T("field.code.required")}}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	_, err = u.o.Sessions.CheckSecondFactor(c.Request().Context(), cur, code, u.client(c))
	switch {
	case apperr.CodeOf(err) == apperr.Invalid:
		p.Errors = []fieldError{{Field: "code", Message: codeMessage(p.L, err, "field.code.wrong")}}
		return u.render(c, http.StatusUnauthorized, p)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, orLanding(v.Return, cur))
}

// codeMessage is the error of an authenticator app's code: the message
// wrong (not right, used, too old), or, when the person's key does not
// open with this server's secrets key, that no code can be checked here
// and what still works.
func codeMessage(l i18n.Locale, err error, wrong string) string {
	if errors.Is(err, session.ErrTOTPUnreadable) {
		return l.T("field.code.unreadable")
	}
	return l.T(wrong)
}
