package report

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/dashboard"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
)

// Briefing renders the monthly briefing of p's organisation: the
// dashboard's figures and charts for month (YYYY-MM; "" is the last
// complete month) against the month before, over the incidents p may see.
// It is an internal document of the organisation, marked TLP:AMBER+STRICT
// on every page, or TLP:RED when a TLP:RED incident (seen as a named
// participant) is counted or listed in it.
func (s *Service) Briefing(ctx context.Context, p access.Principal, month string) (*Document, error) {
	_, loc, err := s.o.Stats.Viewer(ctx, p)
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	if month == "" {
		y, m, _ := now.In(loc).Date()
		month = time.Date(y, m-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return nil, apperr.Fields{{Field: "month", Rule: "format", Message: "month must be a calendar month such as 2026-11"}}.Err()
	}
	d, err := s.o.Stats.Dashboard(ctx, p, stats.Query{Period: stats.PeriodInput{Month: month}, Group: string(stats.ByWeek), OldestLimit: 10})
	if err != nil {
		return nil, err
	}
	label := incident.TLPAmberStrict
	if d.CountsRed {
		label = incident.TLPRed
	}
	cur, prev := dashboard.PeriodName(d.Span.Current), dashboard.PeriodName(d.Span.Previous)
	name := "Monthly briefing " + d.Viewer.Name + " " + cur
	doc, err := newDoc(name, "Monthly briefing · "+d.Viewer.Name+" · "+cur, label, now, loc)
	if err != nil {
		return nil, err
	}
	doc.title("Monthly briefing: "+cur, fmt.Sprintf("%s, compared with %s. Over the incidents %s may see; days in %s.",
		d.Viewer.Name, prev, d.Viewer.Name, loc))
	charts := map[string]chart.Chart{}
	for _, c := range dashboard.Charts(d, nil) {
		charts[c.Key] = c.Chart
	}
	n := func(v int64) string { return chart.FormatCount(float64(v)) }
	doc.drawChart(chart.Tiles{Title: "At a glance", Desc: "New incidents and breaches in " + cur + " against " + prev + "; open incidents as of " +
		d.GeneratedAt.In(loc).Format("2 Jan 2006 15:04") + ".",
		Tiles: []chart.Tile{
			{Label: "new incidents", Value: n(d.Totals.New), Note: dashboard.Change(d.Totals.New, d.Totals.NewPrevious)},
			{Label: "new significant (NIS2)", Value: n(d.Totals.Significant), Note: dashboard.Change(d.Totals.Significant, d.Totals.SignificantPrevious), Class: "cd-sev-high"},
			{Label: "personal-data breaches", Value: n(d.Breaches.Current.Breaches), Note: n(d.Breaches.Current.People) + " people affected (where known)", Class: "cd-s3"},
			{Label: "open now", Value: n(d.Totals.Open), Note: n(d.Totals.OpenSignificant) + " significant, " + n(d.Totals.OpenUnacknowledged) + " not acknowledged"},
		}})

	doc.heading("Response times")
	var rows [][]string
	for _, rt := range d.ResponseTimes {
		if rt.Current.Count == 0 && rt.Previous.Count == 0 {
			continue
		}
		rows = append(rows, []string{dashboard.MetricName(rt.Metric), summary(rt.Current), summary(rt.Previous)})
	}
	doc.tableOr([]string{"Measure", cur + ": median · 90th percentile (incidents)", prev + ": median · 90th percentile (incidents)"},
		[]float64{50, 65, 65}, rows, "Nothing was acknowledged, contained or closed in either month.")
	doc.note(fmt.Sprintf("Counted on the day each ends (acknowledged, first moved to recovery, closed). Medians and 90th percentiles are within %.1f %% of the exact values (docs/metrics.md).",
		stats.MaxRelativeError*100))

	doc.headingKeep("Legal deadlines (NIS2, GDPR)", 40)
	rows = nil
	for i, c := range d.Compliance.Current {
		pc := d.Compliance.Previous[i]
		rows = append(rows, []string{dashboard.DeadlineName(c.Kind), n(c.OnTime), n(c.Late), n(c.Missed), n(c.Open),
			fmt.Sprintf("%s · %s · %s · %s", n(pc.OnTime), n(pc.Late), n(pc.Missed), n(pc.Open))})
	}
	doc.table([]string{"Falling due in " + cur, "On time", "Late", "Missed", "Still open", prev + ": on time · late · missed · open"},
		[]float64{52, 18, 18, 18, 18, 56}, rows)
	doc.drawChart(charts[dashboard.Compliance])

	doc.headingKeep("New incidents", 80)
	doc.drawChart(charts[dashboard.NewByClass])
	doc.drawChart(charts[dashboard.SeverityMix])
	doc.drawChart(charts[dashboard.ResponseTrend])

	doc.headingKeep("Where", 80)
	doc.drawChart(charts[dashboard.Regions])
	doc.drawChart(charts[dashboard.Sectors])

	doc.headingKeep("Escalations and breaches", 80)
	doc.drawChart(charts[dashboard.Escalations])
	doc.drawChart(charts[dashboard.Breaches])

	doc.headingKeep("Open incidents", 80)
	doc.drawChart(charts[dashboard.SignificantOpen])
	doc.drawChart(charts[dashboard.OpenByStage])
	rows = nil
	for _, o := range d.OldestOpen {
		rows = append(rows, []string{o.Reference, o.Title, o.ReportingOrgName, string(o.Severity), string(o.Stage),
			o.ReportedAt.In(loc).Format("2 Jan 2006"), chart.FormatDuration(d.GeneratedAt.Sub(o.ReportedAt))})
	}
	doc.table([]string{"Oldest open", "Title", "Reported by", "Severity", "Stage", "Reported", "Open for"},
		[]float64{32, 46, 30, 17, 19, 20, 16}, rows)

	pdf, err := doc.output()
	if err != nil {
		return nil, err
	}
	return &Document{Filename: "briefing-" + d.Viewer.Slug + "-" + month + ".pdf", PDF: pdf, TLP: label}, nil
}

// summary writes a distribution: "2 h 10 min · 9 h (14)", or "–".
func summary(s stats.Summary) string {
	if s.Count == 0 {
		return "–"
	}
	return fmt.Sprintf("%s · %s (%d)", chart.FormatDuration(s.Median), chart.FormatDuration(s.P90), s.Count)
}
