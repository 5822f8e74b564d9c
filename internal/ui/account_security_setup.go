package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// setupView is the data of the authenticator app's set-up page and of the
// recovery codes shown after it.
type setupView struct {
	Return   string
	Required bool   // a session the organisation holds until a factor is set up
	Secret   string // the key as text, in groups of four
	Codes    []string
	Next     string // where "Continue" goes after the codes
}

// securitySetup shows the QR code (securitySetupQR) and the key as text of
// the authenticator app being set up, and a field for its first code. A
// person with an app already goes to the security page.
func (u *UI) securitySetup(c echo.Context) error {
	cur := current(c)
	ret := safeReturn(c.QueryParam("return"))
	su, err := u.o.Sessions.BeginTOTP(c.Request().Context(), cur)
	if errors.Is(err, session.ErrStepUp) { // has a factor: give it first
		return c.Redirect(http.StatusSeeOther, withReturn(SecondFactorPath, withReturn(SetupPath, ret)))
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		return c.Redirect(http.StatusSeeOther, "/account/security")
	}
	if err != nil {
		return err
	}
	p := u.newPage(c, "security_setup", "factors.setup.title")
	p.Data = setupView{Return: ret, Required: cur.Session.Pending == session.PendingSetup, Secret: groups(su.Secret)}
	return u.render(c, http.StatusOK, p)
}

// groups writes a key in groups of four characters, for typing.
func groups(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// securitySetupQR is the QR code of the app being set up, as a PNG drawn
// here (no image service sees the key), never cached.
func (u *UI) securitySetupQR(c echo.Context) error {
	su, err := u.o.Sessions.BeginTOTP(c.Request().Context(), current(c))
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(su.URL, qrcode.Medium, 256)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}

// securitySetupConfirm checks the app's first code: right, the app is set
// up, the session has its second factor, and the ten recovery codes are
// shown once with a "Continue" to where the person was heading; wrong, the
// page again with the error on the field.
func (u *UI) securitySetupConfirm(c echo.Context) error {
	cur := current(c)
	ret := safeReturn(c.FormValue("return"))
	required := cur.Session.Pending == session.PendingSetup
	code := strings.TrimSpace(c.FormValue("code"))
	p := u.newPage(c, "security_setup", "factors.setup.title")
	if code == "" {
		p.Errors = []fieldError{{Field: "code", Message: p.L.T("field.code.required")}}
	} else {
		codes, err := u.o.Sessions.ConfirmTOTP(c.Request().Context(), cur, code, u.client(c))
		switch {
		case apperr.CodeOf(err) == apperr.Invalid:
			p.Errors = []fieldError{{Field: "code", Message: codeMessage(p.L, err, "field.code.wrong")}}
		case apperr.CodeOf(err) == apperr.Conflict || errors.Is(err, session.ErrStepUp):
			return c.Redirect(http.StatusSeeOther, "/account/security")
		case err != nil:
			return err
		default:
			p = u.newPage(c, "recovery_codes", "factors.codes.title")
			next := ret
			if next == "" {
				next = "/account/security"
				if required {
					next = landing(cur.Principal)
				}
			}
			p.Data = setupView{Codes: codes, Next: next}
			return u.render(c, http.StatusOK, p)
		}
	}
	su, err := u.o.Sessions.BeginTOTP(c.Request().Context(), cur)
	if err != nil {
		return err
	}
	p.Data = setupView{Return: ret, Required: required, Secret: groups(su.Secret)}
	return u.render(c, http.StatusUnprocessableEntity, p)
}
