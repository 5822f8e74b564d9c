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
}

// signinPage shows the sign-in form. A person who is signed in already
// goes on to where they were heading.
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
	p.Data = signinView{Return: ret, Expired: c.QueryParam("ended") == "1"}
	return u.render(c, http.StatusOK, p)
}
