package ui

import (
	"html/template"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/markdown"
	"github.com/labstack/echo/v4"
)

// timelinePageSize is how many timeline entries one incident page shows.
const timelinePageSize = 100

// incidentView is the data of the incident page and of its partials
// (incident_header, deadlines, description, timeline). The reporter's
// and the responder's views add their own fields beside these.
type incidentView struct {
	Reference       string
	Title           string
	TLP             incident.TLP
	Severity        incident.Severity
	Stage           incident.Stage
	Closed          bool
	ReportingOrg    string
	CoordinatingOrg string
	DetectedAt      template.HTML
	ReportedAt      template.HTML
	UpdatedAt       template.HTML
	Deadlines       []deadlineView
	DescriptionHTML template.HTML
	Events          []timelineItem
	TimelineNext    string
	Legal           *legalView // the legal reports' task list (partials/legal_reports.html)
}

// deadlineView is one legal deadline, in words.
type deadlineView struct {
	Kind  incident.DeadlineKind
	State incident.DeadlineState
	Text  template.HTML
}

// incident shows one incident: the same 404 page for a reference that
// does not exist and for one the person may not see. Links in chat
// messages point here; a signed-out visitor signs in and comes back.
func (u *UI) incident(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	_, evs, next, err := u.o.Incidents.Timeline(ctx, cur.Principal, inc.ID.String(), nil,
		incident.Page{After: c.QueryParam("after"), Limit: timelinePageSize})
	if apperr.CodeOf(err) == apperr.Invalid {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference)
	} else if err != nil {
		return err
	}
	names, err := u.orgNames(c, cur.Principal, []incident.Incident{*inc})
	if err != nil {
		return err
	}
	p := u.newPage(c, "incident", "incident.page_title", inc.Reference, inc.Title)
	p.TLP = inc.TLP
	v := incidentView{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Severity: inc.Severity, Stage: inc.Stage,
		Closed: inc.Status == incident.Closed, ReportingOrg: orgName(names, inc.ReportingOrgID, inc.ReportingOrgSlug),
		DetectedAt: p.L.TimePtr(inc.DetectedAt), ReportedAt: p.L.Time(inc.ReportedAt), UpdatedAt: p.L.Time(inc.UpdatedAt),
		Deadlines: deadlines(p.L, inc), DescriptionHTML: descriptionHTML(inc), TimelineNext: next}
	if inc.CoordinatingOrgID != nil {
		v.CoordinatingOrg = orgName(names, *inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	v.Events = u.timelineItems(p.L, evs)
	v.Legal = u.legalForIncidentPage(c, p.L, inc)
	u.markRead(c, inc)
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// descriptionHTML is the stored, sanitised HTML of the description; a
// description stored by an older renderer is rendered again.
func descriptionHTML(inc *incident.Incident) template.HTML {
	h := inc.DescriptionHTML
	if inc.DescriptionHTMLVersion != markdown.Version && inc.Description != "" {
		h = markdown.Render(inc.Description)
	}
	return template.HTML(h) // sanitised by internal/markdown (goldmark + bluemonday)
}

// deadlines are the legal deadlines that apply, each stated in words:
// met (on time or late), or due in / overdue by.
func deadlines(l i18n.Locale, inc *incident.Incident) []deadlineView {
	loc := time.UTC
	if z, err := time.LoadLocation(inc.ReportingOrgTimeZone); err == nil {
		loc = z
	}
	var out []deadlineView
	for _, d := range inc.Deadlines(loc, l.Now) {
		v := deadlineView{Kind: d.Kind, State: d.State}
		switch d.State {
		case incident.DeadlineOnTime:
			v.Text = template.HTML(template.HTMLEscapeString(l.T("deadline.met_on", l.DateTime(d.Met.At))))
		case incident.DeadlineMetLate:
			v.Text = template.HTML(template.HTMLEscapeString(l.T("deadline.met_late", l.DateTime(d.Met.At))))
		default:
			v.Text = l.DueHTML(d.DueAt)
		}
		out = append(out, v)
	}
	return out
}
