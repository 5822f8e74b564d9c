package ui

import (
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/report"
	"github.com/labstack/echo/v4"
)

// summaryView is the executive timeline of one incident: what leadership
// reads in two minutes.
type summaryView struct {
	Reference, Title string
	TLP              incident.TLP
	Severity         incident.Severity
	Stage            incident.Stage
	Closed           bool
	ReportingOrg     string
	CoordinatingOrg  string
	Significant      bool
	Breach           bool
	ReportedAt       template.HTML
	ClosedAt         template.HTML
	Acknowledge      string // time to acknowledge in words, "" when not yet
	Summary          incident.Summary
	SummaryUpdated   template.HTML
	Steps            []summaryStep
	Deadlines        []deadlineView
	Key              []entryView
}

// summaryStep is one stage of the summary's stepper, with the time spent
// in it (report.NewExecutive).
type summaryStep struct {
	Stage   incident.Stage
	State   string // done, current, todo
	Spent   string // time spent in it, "" when none
	Current bool
}

// incidentSummary shows an incident's executive timeline (report.NewExecutive):
// the executive summary, the stages with the time spent in each, the
// legal clocks and only the key events. It is printable. A reference the
// person may not see is the same 404 page as one that does not exist.
func (u *UI) incidentSummary(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	events, err := report.KeyEvents(ctx, u.o.Incidents, cur.Principal, inc)
	if err != nil {
		return err
	}
	names, err := u.orgNames(c, cur.Principal, []incident.Incident{*inc})
	if err != nil {
		return err
	}
	p := u.newPage(c, "incident_summary", "summary.page_title", inc.Reference, inc.Title)
	p.TLP = inc.TLP
	ex := report.NewExecutive(inc, events, u.now().UTC(), p.L.Zone)
	v := summaryView{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Severity: inc.Severity, Stage: inc.Stage,
		Closed: inc.Status == incident.Closed, ReportingOrg: orgName(names, inc.ReportingOrgID, inc.ReportingOrgSlug),
		Significant: inc.Significant, Breach: inc.PersonalDataBreach, ReportedAt: p.L.Time(inc.ReportedAt),
		Summary: inc.Summary, Deadlines: deadlines(p.L, u.o.Incidents.View(inc).Deadlines)}
	if inc.CoordinatingOrgID != nil {
		v.CoordinatingOrg = orgName(names, *inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	if inc.ClosedAt != nil {
		v.ClosedAt = p.L.Time(*inc.ClosedAt)
	}
	if inc.Summary.UpdatedAt != nil {
		v.SummaryUpdated = p.L.Time(*inc.Summary.UpdatedAt)
	}
	if ex.TimeToAcknowledge != nil {
		v.Acknowledge = p.L.Duration(*ex.TimeToAcknowledge)
	}
	for _, s := range ex.Stages {
		sv := summaryStep{Stage: s.Stage, State: "todo", Current: s.Current}
		switch {
		case s.Current:
			sv.State = "current"
		case s.Visited:
			sv.State = "done"
		}
		if s.Spent > 0 {
			sv.Spent = p.L.Duration(s.Spent)
		}
		v.Steps = append(v.Steps, sv)
	}
	for _, ev := range events {
		if report.IsKey(ev) {
			v.Key = append(v.Key, u.describe(p.L, ev))
		}
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}
