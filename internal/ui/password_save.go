package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// passwordSave changes the person's password after checking the current
// one; every other session of theirs ends (this one stays).
func (u *UI) passwordSave(c echo.Context) error {
	cur := current(c)
	current, next, repeat := c.FormValue("current_password"), c.FormValue("password"), c.FormValue("password_repeat")
	p := u.newPage(c, "password", "password.title")
	switch {
	case next == "":
		p.Errors = append(p.Errors, fieldError{Field: "password", Message: p.L.T("field.password.required")})
	case next != repeat:
		p.Errors = append(p.Errors, fieldError{Field: "password_repeat", Message: p.L.T("field.password_repeat.match")})
	}
	if current == "" {
		p.Errors = append([]fieldError{{Field: "current_password", Message: p.L.T("field.current_password.required")}}, p.Errors...)
	}
	if len(p.Errors) > 0 {
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	err := u.o.Sessions.ChangePassword(c.Request().Context(), cur, current, next, u.client(c))
	if apperr.CodeOf(err) == apperr.RateLimited {
		return err // the 429 page, with Retry-After
	}
	if err != nil {
		if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	return c.Redirect(http.StatusSeeOther, "/account?password=changed")
}
