// Package dashboard turns a viewer's figures (stats.Dashboard) into the
// named charts of the dashboard, with their titles, descriptions for
// screen readers and drill-down links: the web page renders them as SVG,
// and the monthly briefing draws the same charts into its PDF. It is pure.
package dashboard

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/taxonomy"
)

// Drill builds the link of a bar or cell: the triage queue filtered to
// what it counts, with the incident list's filter names (status, stage,
// severity, category, significant, personal_data_breach, deadline,
// created_after, created_before). nil: no links.
type Drill func(filter url.Values) string

// Named is one chart of the dashboard.
type Named struct {
	Key   string // stable: significant-open, compliance, …
	Chart chart.Chart
}

// The chart keys, in the order the dashboard shows them.
const (
	SignificantOpen = "significant-open"
	Compliance      = "compliance"
	NewByClass      = "new-by-class"
	SeverityMix     = "severity-mix"
	ResponseTimes   = "response-times"
	ResponseTrend   = "response-trend"
	Sectors         = "sectors"
	Regions         = "regions"
	Escalations     = "escalations"
	Breaches        = "breaches"
	OpenByStage     = "open-by-stage"
)

// Charts returns the dashboard's charts for d.
func Charts(d *stats.Dashboard, drill Drill) []Named {
	link := func(f url.Values) string {
		if drill == nil {
			return ""
		}
		return drill(f)
	}
	b := builder{d: d, link: link}
	return []Named{
		{SignificantOpen, b.significantOpen()},
		{Compliance, b.compliance()},
		{NewByClass, b.newByClass()},
		{SeverityMix, b.severityMix()},
		{ResponseTimes, b.responseTimes()},
		{ResponseTrend, b.responseTrend()},
		{Sectors, b.groups(Sectors, "Incidents by sector", d.BySector, "the reporting organisation's NIS2 sector")},
		{Regions, b.groups(Regions, "Incidents by region", d.ByRegion, "the organisation below "+d.Viewer.Name+" on the way to the reporting organisation")},
		{Escalations, b.escalations()},
		{Breaches, b.breaches()},
		{OpenByStage, b.openByStage()},
	}
}

type builder struct {
	d    *stats.Dashboard
	link func(url.Values) string
}

// PeriodName is the period for people: "November 2026" for a calendar
// month, else "1 Nov – 30 Nov 2026".
func PeriodName(p stats.Period) string {
	last := p.To.AddDate(0, 0, -1)
	if p.From.Day() == 1 && p.To.Day() == 1 && p.To.Equal(p.From.AddDate(0, 1, 0)) {
		return p.From.Format("January 2006")
	}
	if p.From.Year() == last.Year() {
		return p.From.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	}
	return p.From.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
}

// Change writes a count against the previous period: "▲ 3 vs the period
// before", "▼ 2 …", "= …".
func Change(cur, prev int64) string {
	switch {
	case cur > prev:
		return fmt.Sprintf("▲ %s vs the period before (%s)", chart.FormatCount(float64(cur-prev)), chart.FormatCount(float64(prev)))
	case cur < prev:
		return fmt.Sprintf("▼ %s vs the period before (%s)", chart.FormatCount(float64(prev-cur)), chart.FormatCount(float64(prev)))
	}
	return fmt.Sprintf("= the period before (%s)", chart.FormatCount(float64(prev)))
}

// Plural writes a count with its noun: "1 breach", "3 breaches".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") {
		return chart.FormatCount(float64(n)) + " " + noun + "es"
	}
	return chart.FormatCount(float64(n)) + " " + noun + "s"
}

// CategoryName is an RSIT category's name ("Unclassified" for none).
func CategoryName(v string) string {
	if v == "" {
		return "Unclassified"
	}
	if c, ok := taxonomy.RSIT.Category(v); ok && c.Name != "" {
		return c.Name
	}
	return v
}

// DeadlineName names a legal deadline.
func DeadlineName(k incident.DeadlineKind) string {
	switch k {
	case incident.NIS2EarlyWarning:
		return "NIS2 early warning (24 h)"
	case incident.NIS2Notification:
		return "NIS2 notification (72 h)"
	case incident.NIS2FinalReport:
		return "NIS2 final report (1 month)"
	case incident.GDPRNotification:
		return "GDPR notification (72 h)"
	}
	return string(k)
}

// MetricName names a response-time metric.
func MetricName(m string) string {
	switch m {
	case stats.MetricAcknowledge:
		return "Time to acknowledge"
	case stats.MetricContain:
		return "Time to contain"
	case stats.MetricClose:
		return "Time to close"
	}
	if s, ok := strings.CutPrefix(m, "stage:"); ok {
		return "Time in " + s
	}
	return m
}

func (b builder) period() url.Values {
	loc, err := time.LoadLocation(b.d.Viewer.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return url.Values{"created_after": {stats.Midnight(b.d.Span.Current.From, loc).UTC().Format(time.RFC3339)},
		"created_before": {stats.Midnight(b.d.Span.Current.To, loc).UTC().Format(time.RFC3339)}}
}

func (b builder) bucketFilter(bk stats.Bucket, extra url.Values) url.Values {
	loc, err := time.LoadLocation(b.d.Viewer.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f := url.Values{"created_after": {stats.Midnight(bk.From, loc).UTC().Format(time.RFC3339)},
		"created_before": {stats.Midnight(bk.To, loc).UTC().Format(time.RFC3339)}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (b builder) labels() []string {
	out := make([]string, len(b.d.Buckets))
	for i, bk := range b.d.Buckets {
		out[i] = bk.Label
	}
	return out
}

func (b builder) significantOpen() chart.Chart {
	t := chart.Tiles{ID: SignificantOpen, Title: "Significant incidents open now",
		Desc: fmt.Sprintf("%s significant incidents (NIS2) are open now, by severity; %s incidents are open in all, %s not acknowledged yet.",
			chart.FormatCount(float64(b.d.Totals.OpenSignificant)), chart.FormatCount(float64(b.d.Totals.Open)),
			chart.FormatCount(float64(b.d.Totals.OpenUnacknowledged)))}
	for i := len(b.d.OpenSignificant) - 1; i >= 0; i-- {
		c := b.d.OpenSignificant[i]
		t.Tiles = append(t.Tiles, chart.Tile{Label: c.Key, Value: chart.FormatCount(float64(c.N)), Class: "cd-sev-" + c.Key,
			Link: b.link(url.Values{"status": {"open"}, "significant": {"true"}, "severity": {c.Key}})})
	}
	t.Tiles = append(t.Tiles, chart.Tile{Label: "all open", Value: chart.FormatCount(float64(b.d.Totals.Open)),
		Note: chart.FormatCount(float64(b.d.Totals.OpenUnacknowledged)) + " not acknowledged", Link: b.link(url.Values{"status": {"open"}})})
	return t
}

func (b builder) compliance() chart.Chart {
	c := chart.Bars{ID: Compliance, Title: "Legal deadline compliance", Stacked: true, Horizontal: true,
		Series: []chart.Series{{Name: "met on time", Class: "cd-s2"}, {Name: "met late", Class: "cd-s1"},
			{Name: "missed", Class: "cd-sev-critical"}, {Name: "still open", Class: "cd-s7"}}}
	var parts []string
	for _, k := range b.d.Compliance.Current {
		c.Categories = append(c.Categories, DeadlineName(k.Kind))
		for i, v := range []int64{k.OnTime, k.Late, k.Missed, k.Open} {
			c.Series[i].Values = append(c.Series[i].Values, float64(v))
			l := ""
			if i == 2 {
				l = b.link(url.Values{"deadline": {"missed"}})
			}
			c.Series[i].Links = append(c.Series[i].Links, l)
		}
		if k.Total() > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d on time, %d late, %d missed, %d open", DeadlineName(k.Kind), k.OnTime, k.Late, k.Missed, k.Open))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no legal deadline fell due"}
	}
	c.Desc = "Deadlines falling due in " + PeriodName(b.d.Span.Current) + " by outcome: " + strings.Join(parts, "; ") + "."
	return c
}

func (b builder) series(ts stats.TimeSeries, name func(string) string, class func(int, string) string, filter string) []chart.Series {
	var out []chart.Series
	for i, k := range ts.Keys {
		sr := chart.Series{Name: name(k), Class: class(i, k)}
		for j, v := range ts.Values[i] {
			sr.Values = append(sr.Values, float64(v))
			f := url.Values{}
			if filter != "" && k != "" {
				f.Set(filter, k)
			}
			sr.Links = append(sr.Links, b.link(b.bucketFilter(b.d.Buckets[j], f)))
		}
		out = append(out, sr)
	}
	return out
}

func (b builder) newByClass() chart.Chart {
	keys := b.d.NewByCategory
	desc := fmt.Sprintf("%s new incidents in %s (%s), per %s, by RSIT class.", chart.FormatCount(float64(b.d.Totals.New)),
		PeriodName(b.d.Span.Current), Change(b.d.Totals.New, b.d.Totals.NewPrevious), b.d.Group)
	return chart.Bars{ID: NewByClass, Title: "New incidents per " + string(b.d.Group) + " by RSIT class", Desc: desc, Stacked: true,
		Categories: b.labels(), Series: b.series(keys, CategoryName, func(i int, _ string) string { return "cd-s" + strconv.Itoa(i%8) }, "category")}
}

func (b builder) severityMix() chart.Chart {
	var parts []string
	for i, k := range b.d.SeverityMix.Keys {
		var n int64
		for _, v := range b.d.SeverityMix.Values[i] {
			n += v
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	return chart.Bars{ID: SeverityMix, Title: "Severity mix per " + string(b.d.Group), Stacked: true,
		Desc:       "New incidents by severity: " + strings.Join(parts, ", ") + ".",
		Categories: b.labels(), Series: b.series(b.d.SeverityMix, func(k string) string { return k },
			func(_ int, k string) string { return "cd-sev-" + k }, "severity")}
}

func (b builder) responseTimes() chart.Chart {
	c := chart.Bars{ID: ResponseTimes, Title: "Response times: median and 90th percentile", Unit: chart.Duration, Horizontal: true,
		Series: []chart.Series{{Name: "median", Class: "cd-s0"}, {Name: "p90", Class: "cd-s4"},
			{Name: "median, period before", Class: "cd-s7"}}}
	var parts []string
	for _, rt := range b.d.ResponseTimes {
		if rt.Current.Count == 0 && rt.Previous.Count == 0 {
			continue
		}
		c.Categories = append(c.Categories, fmt.Sprintf("%s (%d)", MetricName(rt.Metric), rt.Current.Count))
		c.Series[0].Values = append(c.Series[0].Values, rt.Current.Median.Seconds())
		c.Series[1].Values = append(c.Series[1].Values, rt.Current.P90.Seconds())
		c.Series[2].Values = append(c.Series[2].Values, rt.Previous.Median.Seconds())
		if rt.Current.Count > 0 {
			parts = append(parts, fmt.Sprintf("%s: median %s, p90 %s over %d incidents", MetricName(rt.Metric),
				chart.FormatDuration(rt.Current.Median), chart.FormatDuration(rt.Current.P90), rt.Current.Count))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing was acknowledged, contained or closed"}
	}
	c.Desc = "In " + PeriodName(b.d.Span.Current) + ": " + strings.Join(parts, "; ") + "."
	return c
}

func (b builder) responseTrend() chart.Chart {
	l := chart.Lines{ID: ResponseTrend, Title: "Time to acknowledge per " + string(b.d.Group), Unit: chart.Duration,
		Categories: b.labels(), Desc: "The median and the 90th percentile of the time from report to acknowledgement, per " + string(b.d.Group) + "."}
	med, p90 := chart.Series{Name: "median", Class: "cd-s0"}, chart.Series{Name: "p90", Class: "cd-s4", Dashed: true}
	for _, s := range b.d.ResponseTrend[stats.MetricAcknowledge] {
		m, p := math.NaN(), math.NaN()
		if s.Count > 0 {
			m, p = s.Median.Seconds(), s.P90.Seconds()
		}
		med.Values, p90.Values = append(med.Values, m), append(p90.Values, p)
	}
	l.Series = []chart.Series{med, p90}
	return l
}

func (b builder) groups(key, title string, gs []stats.GroupCount, what string) chart.Chart {
	c := chart.Bars{ID: key, Title: title, Horizontal: true,
		Series: []chart.Series{{Name: "new in the period", Class: "cd-s0"}, {Name: "new, period before", Class: "cd-s7"}, {Name: "open now", Class: "cd-s1"}}}
	for i, g := range gs {
		if i == 12 {
			break
		}
		c.Categories = append(c.Categories, g.Label)
		f := b.period()
		if key == Regions && g.Slug != "" && g.Slug != b.d.Viewer.Slug {
			// A region counts the incidents reported by it or below it:
			// the list's constituency filter.
			f.Set("constituency", g.Slug)
		}
		for j, v := range []int64{g.New, g.NewPrevious, g.Open} {
			c.Series[j].Values = append(c.Series[j].Values, float64(v))
			l := ""
			if j == 0 && key == Regions {
				l = b.link(f)
			}
			c.Series[j].Links = append(c.Series[j].Links, l)
		}
	}
	c.Desc = fmt.Sprintf("New and open incidents by %s, largest first (%s).", what, Plural(len(gs), "group"))
	return c
}

func (b builder) escalations() chart.Chart {
	h := chart.Heat{ID: Escalations, Title: "Escalations between organisations", RowHeader: "From", ColumnHeader: "To"}
	rows, cols := map[string]int{}, map[string]int{}
	for _, e := range b.d.Escalations {
		if _, ok := rows[e.From.Name]; !ok {
			rows[e.From.Name] = len(h.Rows)
			h.Rows = append(h.Rows, e.From.Name)
		}
		if _, ok := cols[e.To.Name]; !ok {
			cols[e.To.Name] = len(h.Columns)
			h.Columns = append(h.Columns, e.To.Name)
		}
	}
	h.Values = make([][]float64, len(h.Rows))
	h.Notes = make([][]string, len(h.Rows))
	for r := range h.Rows {
		h.Values[r] = make([]float64, len(h.Columns))
		h.Notes[r] = make([]string, len(h.Columns))
	}
	var total, accepted, declined int64
	for _, e := range b.d.Escalations {
		r, c := rows[e.From.Name], cols[e.To.Name]
		h.Values[r][c] = float64(e.Requested)
		note := fmt.Sprintf("%d accepted · %d declined", e.Accepted+e.Returned, e.Declined)
		if e.Decide.Count > 0 {
			note += " · median " + chart.FormatDuration(e.Decide.Median)
		}
		h.Notes[r][c] = note
		total, accepted, declined = total+e.Requested, accepted+e.Accepted+e.Returned, declined+e.Declined
	}
	h.Desc = fmt.Sprintf("%s requested in %s between %s of organisations: %d accepted, %d declined.",
		Plural(int(total), "escalation"), PeriodName(b.d.Span.Current), Plural(len(b.d.Escalations), "pair"), accepted, declined)
	return h
}

func (b builder) breaches() chart.Chart {
	c := chart.Bars{ID: Breaches, Title: "Personal-data breaches per " + string(b.d.Group), Categories: b.labels(),
		Series: []chart.Series{{Name: "breaches", Class: "cd-s3"}}}
	for i, bc := range b.d.Breaches.ByBucket {
		c.Series[0].Values = append(c.Series[0].Values, float64(bc.Breaches))
		c.Series[0].Links = append(c.Series[0].Links, b.link(b.bucketFilter(b.d.Buckets[i], url.Values{"personal_data_breach": {"true"}})))
	}
	cur, prev := b.d.Breaches.Current, b.d.Breaches.Previous
	c.Desc = fmt.Sprintf("%s in %s (%s); %s people affected where known (%d of %s).",
		Plural(int(cur.Breaches), "personal-data breach"), PeriodName(b.d.Span.Current), Change(cur.Breaches, prev.Breaches),
		chart.FormatCount(float64(cur.People)), cur.Known, Plural(int(cur.Breaches), "breach"))
	return c
}

func (b builder) openByStage() chart.Chart {
	h := chart.Heat{ID: OpenByStage, Title: "Open incidents by stage and severity", RowHeader: "Stage", ColumnHeader: "Severity",
		Rows: b.d.OpenByStage.Rows, Columns: b.d.OpenByStage.Columns}
	for r, st := range h.Rows {
		var vals []float64
		var links []string
		for c, sev := range h.Columns {
			vals = append(vals, float64(b.d.OpenByStage.Values[r][c]))
			links = append(links, b.link(url.Values{"status": {"open"}, "stage": {st}, "severity": {sev}}))
		}
		h.Values, h.Links = append(h.Values, vals), append(h.Links, links)
	}
	h.Desc = fmt.Sprintf("%s incidents open now, by stage (rows) and severity (columns).", chart.FormatCount(float64(b.d.Totals.Open)))
	return h
}
