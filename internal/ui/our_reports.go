package ui

import (
	"html/template"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// ourReportsPageSize is the length of a page of "Our reports".
const ourReportsPageSize = 25

// ourReportsView is the data of "Our reports".
type ourReportsView struct {
	Rows     []ourReportRow
	Drafts   int // reports started and not sent
	Next     string
	Paged    bool
	MayStart bool
}

// ourReportRow is one incident of the organisation.
type ourReportRow struct {
	Reference string
	Title     string
	TLP       incident.TLP
	Stage     incident.Stage
	Closed    bool
	Legal     []legalState
	Asks      []askView
	MoreAsks  int
	UpdatedAt template.HTML
	Unread    bool
}

// legalState is one legal report of a row in words: "Early warning ✓",
// "Notification due in 1 d 17 h", "Final report due 12 Mar 2026".
type legalState struct {
	Kind incident.DeadlineKind
	Done bool
	Late bool // overdue, or sent late
	Text string
}

// askView is one thing the CERT asks of the organisation (an open task
// assigned to one of its people).
type askView struct {
	Title string
	Who   string
	Due   template.HTML
}

// maxAsks is how many requests a row lists before "and N more".
const maxAsks = 3

// ourReports is the reporting organisation's landing page: each of its
// incidents, last updated first, with its reference, title, stage, the
// state of every legal report, what the CERT asks of the organisation,
// the last update and whether there is news since the person last looked.
// A page costs a fixed number of queries whatever its length: the
// incidents, the organisation's open tasks on them, the read marks, and
// the drafts.
func (u *UI) ourReports(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	after := c.QueryParam("after")
	list, next, err := u.o.Incidents.List(ctx, cur.Principal, incident.Filter{ReportingOrg: cur.Principal.OrgSlug,
		Sort: incident.SortUpdatedDesc}, incident.Page{After: after, Limit: ourReportsPageSize})
	if apperr.CodeOf(err) == apperr.Invalid && after != "" {
		return c.Redirect(http.StatusSeeOther, "/reports")
	} else if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	asks, err := u.o.Tasks.OpenForOrg(ctx, cur.Principal, ids)
	if err != nil {
		return err
	}
	unread, err := u.o.Reads.Unread(ctx, cur.Principal, ids)
	if err != nil {
		return err
	}
	drafts, err := u.o.Filings.OpenDrafts(ctx, cur.Principal)
	if err != nil {
		return err
	}
	p := u.newPage(c, "our_reports", "our_reports.title")
	v := ourReportsView{Next: next, Paged: after != "", Drafts: len(drafts), MayStart: cur.Principal.Can(access.CreateIncident)}
	for i := range list {
		inc := &list[i]
		row := ourReportRow{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Stage: inc.Stage,
			Closed: inc.Status == incident.Closed, Legal: legalStates(p.L, inc), UpdatedAt: p.L.WhenTime(inc.UpdatedAt),
			Unread: unread[inc.ID]}
		for j, t := range asks[inc.ID] {
			if j == maxAsks {
				row.MoreAsks = len(asks[inc.ID]) - maxAsks
				break
			}
			a := askView{Title: t.Title, Who: t.AssigneeEmail}
			if t.DueAt != nil {
				a.Due = p.L.DueHTML(*t.DueAt)
			}
			row.Asks = append(row.Asks, a)
		}
		v.Rows = append(v.Rows, row)
		p.TLP = stricter(p.TLP, inc.TLP)
	}
	p.TLPList = true
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// legalStates says where each legal report of an incident stands, short
// enough for a list: sent (✓), due in (within two days) or due on a day,
// overdue.
func legalStates(l i18n.Locale, inc *incident.Incident) []legalState {
	var out []legalState
	for _, d := range inc.Deadlines(filing.ZoneOf(inc), l.Now) {
		s := legalState{Kind: d.Kind}
		name := l.T("our_reports.short." + string(d.Kind))
		switch d.State {
		case incident.DeadlineOnTime:
			s.Done, s.Text = true, l.T("our_reports.state.done", name)
		case incident.DeadlineMetLate:
			s.Done, s.Late, s.Text = true, true, l.T("our_reports.state.done_late", name)
		case incident.DeadlineMissed:
			s.Late, s.Text = true, l.T("our_reports.state.overdue", name, l.Duration(l.Now.Sub(d.DueAt)))
		default:
			if d.DueAt.Sub(l.Now) <= 48*time.Hour {
				s.Text = l.T("our_reports.state.due_in", name, l.Duration(d.DueAt.Sub(l.Now)))
			} else {
				s.Text = l.T("our_reports.state.due_on", name, l.Date(d.DueAt))
			}
		}
		out = append(out, s)
	}
	return out
}
