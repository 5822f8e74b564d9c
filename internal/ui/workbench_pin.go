package ui

import (
	"net/http"
	"net/url"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchPin pins a timeline entry as a key event (the button's
// pin=<event>) or takes the pin off (unpin=<event>), through
// incident.Service.Pin: the executive timeline and the incident report
// show the pinned entries. Pinning twice changes nothing; an entry that
// does not exist or that the person may not see is the 404 page.
func (u *UI) workbenchPin(c echo.Context) error {
	pinned, raw := true, c.FormValue("pin")
	if raw == "" {
		pinned, raw = false, c.FormValue("unpin")
	}
	id, err := incident.ParseEventID(raw)
	if err == nil {
		_, err = u.o.Incidents.Pin(c.Request().Context(), current(c).Principal, c.Param("ref"), id, pinned)
	}
	if err != nil {
		return err
	}
	done := "pin"
	if !pinned {
		done = "unpin"
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+url.PathEscape(c.Param("ref"))+"?done="+done+"#timeline-title")
}
