package ui

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/labstack/echo/v4"
)

// securityView is the data of the account's security page.
type securityView struct {
	TOTP         bool
	TOTPSince    template.HTML
	RecoveryLeft int
	Passkeys     int
	Required     bool // the organisation requires a second factor of the person
	// Codes are new recovery codes, shown this once.
	Codes []string
}

// accountSecurity shows the person's second factors: the authenticator
// app (set up, remove), the recovery codes left (make new ones), their
// passkeys (counted; /account/passkeys manages them).
func (u *UI) accountSecurity(c echo.Context) error {
	p, err := u.securityPage(c, nil)
	if err != nil {
		return err
	}
	switch c.QueryParam("done") {
	case "removed":
		p.Notice = p.L.T("factors.security.removed")
	}
	return u.render(c, http.StatusOK, p)
}

func (u *UI) securityPage(c echo.Context, codes []string) (*page, error) {
	cur := current(c)
	st, err := u.o.Sessions.Factors(c.Request().Context(), cur.Principal.UserID)
	if err != nil {
		return nil, err
	}
	p := u.newPage(c, "account_security", "factors.security.title")
	v := securityView{TOTP: st.TOTP, RecoveryLeft: st.RecoveryLeft, Passkeys: st.Passkeys, Required: st.Required(), Codes: codes}
	if st.TOTPSince != nil {
		v.TOTPSince = p.L.WhenTime(*st.TOTPSince)
	}
	p.Data = v
	return p, nil
}

// accountSecurityRemove removes the authenticator app and its recovery
// codes after a current code or the password.
func (u *UI) accountSecurityRemove(c echo.Context) error {
	cur := current(c)
	code, pw := strings.TrimSpace(c.FormValue("code")), c.FormValue("password")
	err := u.o.Sessions.RemoveTOTP(c.Request().Context(), cur, code, pw, u.client(c))
	if apperr.CodeOf(err) == apperr.Invalid || (err == nil && code == "" && pw == "") {
		p, perr := u.securityPage(c, nil)
		if perr != nil {
			return perr
		}
		p.Errors = []fieldError{{Field: "code", Message: codeMessage(p.L, err, "factors.security.remove_wrong")}}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/security?done=removed")
}

// accountSecurityCodes makes new recovery codes (the old ones stop
// counting) and shows them once. It needs a recent second factor: without
// one, the second-factor page first.
func (u *UI) accountSecurityCodes(c echo.Context) error {
	codes, err := u.o.Sessions.RenewRecoveryCodes(c.Request().Context(), current(c))
	if err == session.ErrStepUp {
		return c.Redirect(http.StatusSeeOther, withReturn(SecondFactorPath, "/account/security"))
	}
	if err != nil {
		return err
	}
	p, err := u.securityPage(c, codes)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, p)
}
