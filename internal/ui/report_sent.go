package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// sentView is the data of the confirmation page.
type sentView struct {
	Reference string
	Title     string
	CERT      string // the CERT that handles it, by name ("" when none is above)
	Phone     string
	PhoneURI  string
	Clocks    []deadlineLine
	// Next is the first legal report to file, with its form's address.
	Next     incident.DeadlineKind
	NextHref string
	MayFile  bool
}

// reportSent is the confirmation of a sent report (GOV.UK confirmation
// page): the reference, the CERT that will handle it, what happens next,
// and each legal clock now running with its due time. Its address names
// the reference, so it can be bookmarked and opened again later; it
// answers like the incident page (the same 404 for an incident the
// person may not see).
func (u *UI) reportSent(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	p := u.newPage(c, "report_sent", "report.sent.title")
	p.TLP = inc.TLP
	v := sentView{Reference: inc.Reference, Title: inc.Title, Clocks: clockLines(p.L, inc),
		MayFile: cur.Principal.MayWrite(access.FileLegalReport, inc.Relations)}
	if inc.CoordinatingOrgID != nil {
		names, err := u.orgNames(c, cur.Principal, []incident.Incident{*inc})
		if err != nil {
			return err
		}
		v.CERT = orgName(names, *inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	if o, err := u.o.Orgs.ResponsibleCERT(ctx, orgActor(cur.Principal)); err == nil {
		if v.CERT == "" {
			v.CERT = o.Name
		}
		v.Phone, v.PhoneURI = o.ContactPhone, telURI(o.ContactPhone)
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	overview, err := u.o.Filings.Legal(ctx, cur.Principal, inc.ID.String())
	if err != nil {
		return err
	}
	for _, t := range overview.Tasks {
		if t.State == filing.TaskToDo || t.State == filing.TaskOverdue {
			v.Next, v.NextHref = t.Kind, "/incidents/"+inc.Reference+"/legal/"+string(t.Kind)
			break
		}
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}
