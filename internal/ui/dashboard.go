package ui

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/dashboard"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/labstack/echo/v4"
)

// dashboardView is the data of the dashboard: the period form, the
// headline figures, the named charts and the oldest open incidents.
type dashboardView struct {
	Form         periodForm
	Compare      bool
	Period       string // the period in words
	Previous     string
	Figures      []figure
	Charts       []dashChart
	Oldest       []oldestRow
	OldestCSV    string
	Briefing     string // the link to the monthly briefing PDF
	BriefingName string // the briefing's month in words
	Ready        bool   // the figures were computed (false: the form has errors)
}

// periodForm is the period picker as the person filled it in.
type periodForm struct {
	Range          string // last-30-days, last-month, month, custom
	Month          string // YYYY-MM
	From, To       string // YYYY-MM-DD, both days included
	MonthMax       string
	Compare        bool
	LastMonthLabel string
}

// figure is one headline figure, against the period before.
type figure struct {
	Label, Value, Previous, Note string
	Trend                        string // up, down, same, or "" when not compared
	Words                        bool   // the value is words ("none due"), not a number: smaller
}

// dashChart is one chart: its SVG, its table and the CSV link.
type dashChart struct {
	Key, Title string
	SVG        template.HTML
	Table      chart.Table
	CSV        string
}

// oldestRow is one of the oldest open incidents.
type oldestRow struct {
	Reference, Title string
	TLP              incident.TLP
	Severity         incident.Severity
	Stage            incident.Stage
	ReportingOrg     string
	Reported         template.HTML
	Age              string
	Acknowledged     bool
}

// The period picker's choices.
const (
	rangeLast30    = "last-30-days"
	rangeLastMonth = "last-month"
	rangeMonth     = "month"
	rangeCustom    = "custom"
)

// dashboard shows the leadership figures of the person's organisation for
// a period, over the incidents the person may see (stats.Service); a
// viewer lands here. Every chart is SVG drawn on the server, with its
// table and CSV, and its bars link to the incident list filtered to what
// they count.
func (u *UI) dashboard(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	p := u.newPage(c, "dashboard", "dashboard.title")
	_, loc, err := u.o.Stats.Viewer(ctx, cur.Principal)
	if err != nil {
		return err
	}
	today := stats.LocalDay(u.now(), loc)
	form, in := periodOf(c, today)
	form.LastMonthLabel = monthName(p.L, today.AddDate(0, -1, 1-today.Day()))
	v := dashboardView{Form: form, Compare: form.Compare}
	p.Data = &v
	d, err := u.o.Stats.Dashboard(ctx, cur.Principal, stats.Query{Period: in, OldestLimit: 10})
	if apperr.CodeOf(err) == apperr.Invalid {
		if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
		return u.render(c, http.StatusBadRequest, p)
	} else if err != nil {
		return err
	}
	v.Ready = true
	v.Period, v.Previous = periodName(p.L, d.Span.Current), periodName(p.L, d.Span.Previous)
	query := spanQuery(d.Span)
	v.Figures = figures(p.L, d, v.Compare)
	for _, n := range dashboard.Charts(d, drillLink) {
		ch := localiseChart(p.L, n, d.Group, v.Compare)
		v.Charts = append(v.Charts, dashChart{Key: n.Key, Title: chartTitle(ch), SVG: template.HTML(ch.SVG()), // drawn by internal/chart, every text escaped
			Table: ch.Table(), CSV: "/dashboard/csv?" + withChart(query, n.Key)})
	}
	for _, o := range d.OldestOpen {
		name := o.ReportingOrgName
		if name == "" {
			name = o.ReportingOrg
		}
		v.Oldest = append(v.Oldest, oldestRow{Reference: o.Reference, Title: o.Title, TLP: o.TLP, Severity: o.Severity, Stage: o.Stage,
			ReportingOrg: name, Reported: p.L.Time(o.ReportedAt), Age: p.L.Duration(u.now().Sub(o.ReportedAt)),
			Acknowledged: o.AcknowledgedAt != nil})
	}
	v.OldestCSV = "/dashboard/csv?" + withChart(query, oldestKey)
	month := today.AddDate(0, -1, 1-today.Day())
	if d.Span.Asked == in.Month && in.Month != "" {
		month = d.Span.Current.From
	}
	v.Briefing = "/dashboard/briefing.pdf?month=" + month.Format("2006-01")
	v.BriefingName = monthName(p.L, month)
	// The figures are the organisation's own: like the briefing, the page
	// is marked TLP:AMBER+STRICT, or TLP:RED when a TLP:RED incident is
	// counted or listed.
	p.TLP = incident.TLPAmberStrict
	if d.CountsRed {
		p.TLP = incident.TLPRed
	}
	return u.render(c, http.StatusOK, p)
}

// oldestKey is the CSV of the oldest open incidents.
const oldestKey = "oldest-open"

// periodOf reads the period picker: the choice, and the period as the
// metrics take it. Nothing chosen is the last 30 days compared with the
// 30 days before; a link may also name a period as the API does (period,
// month, from and to with to excluded).
func periodOf(c echo.Context, today time.Time) (periodForm, stats.PeriodInput) {
	q := c.QueryParam
	f := periodForm{Range: q("range"), Month: q("month"), From: q("from"), To: q("to"), Compare: q("compare") == "1",
		MonthMax: today.Format("2006-01")}
	if len(c.QueryParams()) == 0 {
		f.Compare = true
	}
	var in stats.PeriodInput
	switch f.Range {
	case rangeLastMonth:
		in.Month = today.AddDate(0, -1, 1-today.Day()).Format("2006-01")
		f.Month = ""
	case rangeMonth:
		in.Month = f.Month
		if in.Month == "" {
			in.Month = "-" // "month is required" as a format error
		}
	case rangeCustom:
		in.From, in.To = f.From, f.To
		if t, err := time.Parse(time.DateOnly, f.To); err == nil {
			in.To = t.AddDate(0, 0, 1).Format(time.DateOnly) // the form's "to" is the last day
		}
		if in.From == "" && in.To == "" {
			in.From = "-"
		}
	case "":
		in = stats.PeriodInput{Period: q("period"), Month: q("month"), From: q("from"), To: q("to")}
		switch {
		case in.Month != "":
			f.Range = rangeMonth
		case in.From != "" || in.To != "":
			f.Range = rangeCustom
			if t, err := time.Parse(time.DateOnly, in.To); err == nil {
				f.To = t.AddDate(0, 0, -1).Format(time.DateOnly)
			}
		default:
			f.Range = rangeLast30
		}
	default:
		f.Range = rangeLast30
		in.Period = "P30D"
	}
	return f, in
}

// spanQuery names the period in the query of the CSV and briefing links.
func spanQuery(s stats.Span) url.Values {
	if _, err := time.Parse("2006-01", s.Asked); err == nil {
		return url.Values{"month": {s.Asked}}
	}
	return url.Values{"from": {s.Current.From.Format(time.DateOnly)}, "to": {s.Current.To.Format(time.DateOnly)}}
}

func withChart(q url.Values, key string) string {
	out := url.Values{"chart": {key}}
	for k, v := range q {
		out[k] = v
	}
	return out.Encode()
}

// drillLink is a chart's drill-down: the incident list with the filters
// it understands (incidents_filter.go).
func drillLink(f url.Values) string {
	kept := url.Values{}
	for _, name := range listFilterParams {
		if v := f.Get(name); v != "" {
			kept.Set(name, v)
		}
	}
	return "/incidents?" + kept.Encode()
}

// periodName is a period in words: a month's name, or its first and last
// day.
func periodName(l i18n.Locale, p stats.Period) string {
	if p.From.Day() == 1 && p.To.Equal(p.From.AddDate(0, 1, 0)) {
		return monthName(l, p.From)
	}
	days := i18n.NewLocale(l.Printer, time.UTC, l.Now) // the period's days are midnight UTC standing for local dates
	return l.T("dashboard.period_range", days.Date(p.From), days.Date(p.To.AddDate(0, 0, -1)))
}

// monthName is "November 2026" in the person's language.
func monthName(l i18n.Locale, m time.Time) string {
	return l.T("dashboard.month", l.T("dashboard.month."+m.Format("01")), m.Format("2006")) // a year has no thousands separator
}

// figures are the headline figures.
func figures(l i18n.Locale, d *stats.Dashboard, compare bool) []figure {
	count := func(n int64) string { return chart.FormatCount(float64(n)) }
	trend := func(cur, prev float64) string {
		switch {
		case !compare:
			return ""
		case cur > prev:
			return "up"
		case cur < prev:
			return "down"
		}
		return "same"
	}
	prevText := func(s string) string {
		if !compare {
			return ""
		}
		return l.T("dashboard.figure.previous", s)
	}
	var out []figure
	out = append(out, figure{Label: l.T("dashboard.figure.new"), Value: count(d.Totals.New),
		Previous: prevText(count(d.Totals.NewPrevious)), Trend: trend(float64(d.Totals.New), float64(d.Totals.NewPrevious))})
	out = append(out, figure{Label: l.T("dashboard.figure.significant"), Value: count(d.Totals.Significant),
		Previous: prevText(count(d.Totals.SignificantPrevious)), Trend: trend(float64(d.Totals.Significant), float64(d.Totals.SignificantPrevious))})
	out = append(out, figure{Label: l.T("dashboard.figure.open"), Value: count(d.Totals.Open),
		Note: l.T("dashboard.figure.unacknowledged", count(d.Totals.OpenUnacknowledged))})
	rate := func(cs []stats.ComplianceCount) (float64, bool) {
		var onTime, due int64
		for _, c := range cs {
			onTime += c.OnTime
			due += c.OnTime + c.Late + c.Missed
		}
		if due == 0 {
			return 0, false
		}
		return math.Round(float64(onTime) / float64(due) * 100), true
	}
	pct := func(v float64, ok bool) string {
		if !ok {
			return l.T("dashboard.figure.none")
		}
		return chart.Percent.Format(v)
	}
	cr, cok := rate(d.Compliance.Current)
	pr, pok := rate(d.Compliance.Previous)
	f := figure{Label: l.T("dashboard.figure.compliance"), Value: pct(cr, cok), Previous: prevText(pct(pr, pok)), Words: !cok}
	if cok && pok {
		f.Trend = trend(cr, pr)
	}
	out = append(out, f)
	for _, rt := range d.ResponseTimes {
		if rt.Metric != stats.MetricAcknowledge {
			continue
		}
		dur := func(s stats.Summary) string {
			if s.Count == 0 {
				return l.T("dashboard.figure.none_acknowledged")
			}
			return l.Duration(s.Median)
		}
		f := figure{Label: l.T("dashboard.figure.acknowledge"), Value: dur(rt.Current), Previous: prevText(dur(rt.Previous)),
			Words: rt.Current.Count == 0}
		if rt.Current.Count > 0 && rt.Previous.Count > 0 && compare {
			// Shorter is better: the arrow says which way the time went.
			f.Trend = trend(rt.Current.Median.Seconds(), rt.Previous.Median.Seconds())
		}
		out = append(out, f)
	}
	out = append(out, figure{Label: l.T("dashboard.figure.breaches"), Value: count(d.Breaches.Current.Breaches),
		Previous: prevText(count(d.Breaches.Previous.Breaches)), Trend: trend(float64(d.Breaches.Current.Breaches), float64(d.Breaches.Previous.Breaches)),
		Note: l.T("dashboard.figure.people", count(d.Breaches.Current.People))})
	return out
}

// localiseChart gives a chart its title in the person's language and,
// without the comparison, drops the period-before series.
func localiseChart(l i18n.Locale, n dashboard.Named, g stats.Grouping, compare bool) chart.Chart {
	title := l.T("dashboard.chart." + n.Key)
	switch n.Key {
	case dashboard.NewByClass, dashboard.SeverityMix, dashboard.ResponseTrend, dashboard.Breaches:
		title = l.T("dashboard.chart."+n.Key, l.T("dashboard.group."+string(g)))
	}
	keep := func(ss []chart.Series) []chart.Series {
		if compare {
			return ss
		}
		var out []chart.Series
		for _, s := range ss {
			// internal/dashboard names its period-before series so.
			if !strings.HasSuffix(s.Name, "period before") {
				out = append(out, s)
			}
		}
		return out
	}
	switch c := n.Chart.(type) {
	case chart.Bars:
		c.Title, c.Series = title, keep(c.Series)
		return c
	case chart.Lines:
		c.Title = title
		return c
	case chart.Heat:
		c.Title = title
		return c
	case chart.Tiles:
		c.Title = title
		return c
	}
	return n.Chart
}

func chartTitle(c chart.Chart) string {
	switch c := c.(type) {
	case chart.Bars:
		return c.Title
	case chart.Lines:
		return c.Title
	case chart.Heat:
		return c.Title
	case chart.Tiles:
		return c.Title
	}
	return ""
}
