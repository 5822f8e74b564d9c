package ui

import (
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// legalView is the task list of an incident's legal reports (GOV.UK
// "complete multiple tasks"), on the incident page
// (partials/legal_reports.html) and on the legal reports page.
type legalView struct {
	Reference string
	Tasks     []legalTaskView
	// Page is the legal reports page's address (what was sent).
	Page string
}

// legalTaskView is one legal report in the task list.
type legalTaskView struct {
	Kind   incident.DeadlineKind
	State  filing.TaskState
	Status string        // the status tag's words
	Detail template.HTML // when it is due, when it was sent, what it waits for
	Href   string        // the form, when the person may file it now
	Link   string        // the link's words
	Filed  []filedView   // the reports sent (the legal reports page)
}

// filedView is one legal report that was sent, with its questions and
// answers.
type filedView struct {
	Heading    string
	Meta       string
	LateReason string
	Items      []incident.ReportItem
}

// legalTasks builds the task list of an incident for the person: the
// form links only for someone who may file (incident.legal_report).
// It returns nil when no legal deadline applies.
func (u *UI) legalTasks(c echo.Context, l i18n.Locale, inc *incident.Incident, withFiled bool) (*legalView, error) {
	o, err := u.o.Filings.Legal(c.Request().Context(), current(c).Principal, inc.ID.String())
	if err != nil {
		return nil, err
	}
	if len(o.Tasks) == 0 {
		return nil, nil
	}
	v := &legalView{Reference: inc.Reference, Page: "/incidents/" + inc.Reference + "/legal"}
	for _, t := range o.Tasks {
		tv := legalTaskView{Kind: t.Kind, State: t.State, Status: l.T("legal.state." + string(t.State))}
		form := "/incidents/" + inc.Reference + "/legal/" + string(t.Kind)
		switch t.State {
		case filing.TaskDone:
			text := l.T("deadline.met_on", l.DateTime(t.Deadline.Met.At))
			if t.Deadline.State == incident.DeadlineMetLate {
				text = l.T("deadline.met_late", l.DateTime(t.Deadline.Met.At))
			}
			tv.Detail = template.HTML(template.HTMLEscapeString(text))
			if t.MoreAllowed && o.MayFile {
				tv.Href, tv.Link = form, l.T("legal.add_phase")
			}
		case filing.TaskCannotStart:
			tv.Detail = template.HTML(template.HTMLEscapeString(l.T("legal.after", l.T("deadline."+string(t.Blocker)))))
		default:
			tv.Detail = l.DueHTML(t.Deadline.DueAt)
			if o.MayFile {
				tv.Href, tv.Link = form, l.T("legal.file."+string(t.Kind))
			}
		}
		if withFiled {
			for i := range t.Reports {
				r := &t.Reports[i]
				fv := filedView{Heading: l.T("deadline." + string(r.Kind)), Items: r.Items, LateReason: r.LateReason,
					Meta: l.T("legal.filed_meta", l.DateTime(r.FiledAt), r.FiledByName)}
				if r.Phase > 1 {
					fv.Heading = l.T("legal.phase", fv.Heading, r.Phase)
				}
				tv.Filed = append(tv.Filed, fv)
			}
		}
		v.Tasks = append(v.Tasks, tv)
	}
	return v, nil
}

// legalPageView is the data of the legal reports page.
type legalPageView struct {
	Reference string
	Title     string
	Legal     *legalView
}

// legal is the legal reports page of an incident: the task list and every
// report sent, with its questions as they were asked and its answers.
// Whoever sees the incident sees it (the CERT reads what the
// organisation sent); the same 404 as the incident page otherwise.
func (u *UI) legal(c echo.Context) error {
	cur := current(c)
	inc, err := u.o.Incidents.Get(c.Request().Context(), cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	p := u.newPage(c, "legal", "legal.title", inc.Reference)
	p.TLP = inc.TLP
	if kind := c.QueryParam("sent"); kind != "" && u.o.Catalogue.Has("deadline."+kind) {
		p.Notice = p.L.T("legal.sent_notice", p.L.T("deadline."+kind))
	}
	lv, err := u.legalTasks(c, p.L, inc, true)
	if err != nil {
		return err
	}
	if lv != nil {
		lv.Page = "" // this is that page
	}
	p.Data = legalPageView{Reference: inc.Reference, Title: inc.Title, Legal: lv}
	return u.render(c, http.StatusOK, p)
}

// legalForIncidentPage is the task list the incident page includes
// (partials/legal_reports.html); nil when no legal deadline applies, or
// when it cannot be read (the incident page still shows).
func (u *UI) legalForIncidentPage(c echo.Context, l i18n.Locale, inc *incident.Incident) *legalView {
	v, err := u.legalTasks(c, l, inc, false)
	if err != nil {
		u.o.Logger.ErrorContext(c.Request().Context(), "legal reports for the incident page", "err", err)
		return nil
	}
	return v
}

// markRead records that the person opened the incident (the unread
// marker of "Our reports"); a failure is logged, not shown.
func (u *UI) markRead(c echo.Context, inc *incident.Incident) {
	if err := u.o.Reads.MarkRead(c.Request().Context(), current(c).Principal, inc.ID); err != nil {
		u.o.Logger.ErrorContext(c.Request().Context(), "mark incident read", "err", err)
	}
}

// legalError maps the refusals of a legal report's form: a report that
// cannot be written now (filed already, waiting for another) goes back
// to the legal reports page; one that does not apply is the 404 page.
func (u *UI) legalError(c echo.Context, err error) error {
	if apperr.Is(err, apperr.Conflict) {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"/legal")
	}
	return err
}
