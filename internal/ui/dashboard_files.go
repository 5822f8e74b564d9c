package ui

import (
	"slices"

	"bytes"
	"github.com/certdesk/certdesk/internal/spreadsheet"
	"mime"
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/dashboard"
	"github.com/certdesk/certdesk/internal/report"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/labstack/echo/v4"
)

// dashboardCSV is one chart of the dashboard (or the oldest open
// incidents) as CSV: ?chart=<key> and the period as the API names it
// (month, or from and to with to excluded, or period).
func (u *UI) dashboardCSV(c echo.Context) error {
	cur := current(c)
	key := c.QueryParam("chart")
	in := stats.PeriodInput{Period: c.QueryParam("period"), Month: c.QueryParam("month"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	d, err := u.o.Stats.Dashboard(c.Request().Context(), cur.Principal, stats.Query{Period: in, OldestLimit: 100})
	if err != nil {
		return err
	}
	var table *chart.Table
	if key == oldestKey {
		t := chart.Table{Header: []string{"Reference", "Title", "TLP", "Severity", "Stage", "Reporting organisation", "Reported", "Acknowledged"}}
		for _, o := range d.OldestOpen {
			ack := ""
			if o.AcknowledgedAt != nil {
				ack = o.AcknowledgedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			t.Rows = append(t.Rows, []string{o.Reference, o.Title, string(o.TLP), string(o.Severity), string(o.Stage), o.ReportingOrg,
				o.ReportedAt.UTC().Format("2006-01-02T15:04:05Z"), ack})
		}
		table = &t
	}
	for _, n := range dashboard.Charts(d, nil) {
		if n.Key == key {
			t := n.Chart.Table()
			table = &t
		}
	}
	if table == nil {
		return apperr.Fields{{Field: "chart", Rule: "enum", Message: "chart must name a chart of the dashboard"}}.Err()
	}
	for i, row := range table.Rows {
		table.Rows[i] = csvCells(row)
	}
	var buf bytes.Buffer
	if err := table.CSV(&buf); err != nil {
		return err
	}
	name := "certdesk-" + key + "-" + d.Span.Current.From.Format("20060102") + "-" + d.Span.Current.To.AddDate(0, 0, -1).Format("20060102") + ".csv"
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvCells keeps a spreadsheet from reading a cell as a formula
// (spreadsheet.Safe, the one guard of every CSV certdesk writes:
// organisation names and incident titles are people's words).
func csvCells(row []string) []string {
	return spreadsheet.Safe(slices.Clone(row))
}

// briefingPDF streams the monthly briefing of the person's organisation
// (?month=YYYY-MM; none: the last complete month), made by report.Service
// over what the person may see.
func (u *UI) briefingPDF(c echo.Context) error {
	doc, err := u.o.Reports.Briefing(c.Request().Context(), current(c).Principal, c.QueryParam("month"))
	if err != nil {
		return err
	}
	return sendDocument(c, doc)
}

// incidentReportPDF streams an incident's report: the same 404 page for a
// reference that does not exist and for one the person may not see.
func (u *UI) incidentReportPDF(c echo.Context) error {
	doc, err := u.o.Reports.IncidentReport(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	return sendDocument(c, doc)
}

// sendDocument answers a PDF as a download, with the TLP label every
// page of it carries.
func sendDocument(c echo.Context, doc *report.Document) error {
	download(c, doc.Filename, string(doc.TLP))
	return c.Blob(http.StatusOK, "application/pdf", doc.PDF)
}
