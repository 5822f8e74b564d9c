package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// caseworkShareAdd shares the incident with another organisation, which
// then sees it as far as its TLP allows (incident.Service.Share:
// incident.share). No organisation chosen, or one that does not exist,
// comes back with the note typed; a TLP:RED or TLP:AMBER+STRICT incident
// is not shared with organisations (409: name participants instead).
func (u *UI) caseworkShareAdd(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	form := caseworkForm{Target: "share", ShareOrg: c.FormValue("org"), ShareNote: c.FormValue("note")}
	_, err = u.o.Incidents.Share(ctx, cur.Principal, inc.ID.String(), form.ShareOrg, form.ShareNote)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, err, "share-")
	case apperr.Conflict:
		return u.caseworkAgain(c, form, http.StatusConflict, nil, "",
			fieldError{Field: "share-org", Message: u.locale(c).T("casework.error.org.tlp")})
	}
	if err != nil {
		return err
	}
	return caseworkDone(c, "shared", "circle")
}
