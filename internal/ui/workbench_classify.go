package ui

import (
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchClassify sets the incident's RSIT class: "category" or
// "category:type" from the grouped list (the service checks both against
// the taxonomy).
func (u *UI) workbenchClassify(c echo.Context) error {
	form := workbenchForm{Class: strings.TrimSpace(c.FormValue("class"))}
	var err error
	if form.Class == "" {
		err = apperr.Fields{{Field: "category", Rule: "required", Message: "choose a class"}}.Err()
	} else {
		cat, typ, _ := strings.Cut(form.Class, ":")
		_, err = u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"),
			incident.Patch{Category: &cat, Type: &typ}, formVersion(c))
	}
	return u.workbenchAnswer(c, err, "classify", form, map[string]string{"category": "wb-class", "type": "wb-class"}, "wb-class")
}
