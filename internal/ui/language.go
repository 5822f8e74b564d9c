package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// language switches the language: for a signed-in person it becomes
// their setting; before signing in it is kept in a cookie. Then back to
// the page the switch was on.
func (u *UI) language(c echo.Context) error {
	lang := c.FormValue("lang")
	if !u.o.Catalogue.Supported(lang) {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	u.setCookie(c, u.cookies.lang, lang, langCookieAge)
	if cur := current(c); cur != nil {
		if _, err := u.o.Settings.SetLanguage(c.Request().Context(), cur.Principal, lang); err != nil {
			return err
		}
	}
	ret := safePath(c.FormValue("return"))
	if ret == "" {
		ret = "/"
	}
	return c.Redirect(http.StatusSeeOther, ret)
}
