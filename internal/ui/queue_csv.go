package ui

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/spreadsheet"
	"github.com/labstack/echo/v4"
)

// maxQueueCSV bounds one CSV of the queue; narrow the view for more.
const maxQueueCSV = 10_000

// queueCSVHeader names the columns of the queue's CSV (the same in every
// language: the file is for programs as much as for people).
var queueCSVHeader = []string{"reference", "title", "next_deadline_at", "severity", "category", "type", "tlp", "pap", "reporting_org",
	"assignee", "assignee_team", "stage", "status", "acknowledged_at", "reported_at", "updated_at"}

// queueCSV writes the current view of the queue (the same tab, filters
// and sort, every page) as CSV, through the same visibility rule; cells
// a spreadsheet would run as a formula are defused.
func (u *UI) queueCSV(c echo.Context) error {
	cur := current(c)
	if !cur.Principal.OrgKind.IsCERT() {
		return apperr.New(apperr.Forbidden, "the triage queue is a CERT's")
	}
	ctx := c.Request().Context()
	q := parseQueueQuery(c.QueryParams())
	f := q.filter(cur.Principal)
	list, next, err := u.o.Incidents.List(ctx, cur.Principal, f, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="queue.csv"`)
	res.WriteHeader(http.StatusOK)
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err = spreadsheet.WritePages(res, queueCSVHeader, list, next, func(after string) ([]incident.Incident, string, error) {
		return u.o.Incidents.List(ctx, cur.Principal, f, incident.Page{After: after, Limit: incident.MaxLimit})
	}, func(inc *incident.Incident) []string {
		return []string{inc.Reference, inc.Title, ts(inc.NextDeadlineAt), string(inc.Severity),
			inc.Category, inc.Type, string(inc.TLP), string(inc.PAP), inc.ReportingOrgSlug, inc.AssigneeEmail, inc.AssigneeTeamName,
			string(inc.Stage), string(inc.Status), ts(inc.AcknowledgedAt), ts(&inc.ReportedAt), ts(&inc.UpdatedAt)}
	}, maxQueueCSV)
	if err != nil {
		u.o.Logger.ErrorContext(ctx, "queue csv stopped", "err", err)
	}
	return nil // the status is sent; the truncated file is all there is
}
