package ui

import (
	"strconv"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// countOpenEscalations puts the number of requests to p's organisation
// waiting for a decision beside the navigation's escalation entry (when
// p's navigation has it): one indexed list query of at most
// openCountLimit+1 rows through the escalation service, never a count of
// the whole table. A failure leaves the number out rather than failing
// the page.
func (u *UI) countOpenEscalations(c echo.Context, p access.Principal, nav []navItem) {
	i := -1
	for j := range nav {
		if nav[j].Href == "/escalations" {
			i = j
		}
	}
	if i < 0 {
		return
	}
	list, _, err := u.o.Escalations.List(c.Request().Context(), p, escalation.Filter{Direction: "inbox", State: escalation.Requested},
		incident.Page{Limit: openCountLimit + 1})
	if err != nil {
		u.o.Logger.WarnContext(c.Request().Context(), "count open escalations", "err", err)
		return
	}
	switch n := len(list); {
	case n > openCountLimit:
		nav[i].Count = strconv.Itoa(openCountLimit) + "+"
	case n > 0:
		nav[i].Count = strconv.Itoa(n)
	}
}
