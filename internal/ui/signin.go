package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// signinView is the data of the sign-in page.
type signinView struct {
	Email   string
	Return  string // where to go after signing in
	Expired bool   // the session had ended: say so
	// EmailFirst asks for the e-mail address alone (home-realm
	// discovery): its domain decides between the organisation's
	// identity provider and the password.
	EmailFirst bool
	// Stepped: the password form follows the e-mail step (a link offers
	// another address); FocusPassword puts the cursor in the password.
	Stepped, FocusPassword bool
}

// signinPage shows the sign-in form: the e-mail address first when
// organisations may have identity providers (signin_submit.go), the
// address and password otherwise. A person who is signed in already goes
// on to where they were heading.
func (u *UI) signinPage(c echo.Context) error {
	ret := safeReturn(c.QueryParam("return"))
	if cur := current(c); cur != nil {
		if ret == "" {
			ret = landing(cur.Principal)
		}
		return c.Redirect(http.StatusSeeOther, ret)
	}
	p := u.newPage(c, "signin", "signin.title")
	if c.QueryParam("signedout") == "1" {
		p.Notice = p.L.T("signin.signed_out")
	}
	p.Data = signinView{Return: ret, Expired: c.QueryParam("ended") == "1", EmailFirst: u.o.SSO != nil}
	return u.render(c, http.StatusOK, p)
}
