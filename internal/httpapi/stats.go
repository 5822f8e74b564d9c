package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/labstack/echo/v4"
)

// statsPeriod are the query parameters that name a period.
var statsPeriod = []string{"period", "from", "to", "month"}

// statsSections are the /api/v1/stats/{section} routes beside the whole
// dashboard: each answers JSON, or CSV with format=csv.
var statsSections = map[string]func(d *stats.Dashboard) (body any, header []string, rows [][]string){
	"response-times": statsResponseTimes,
	"deadlines":      statsDeadlines,
	"new-incidents":  statsNewIncidents,
	"open":           statsOpen,
	"sectors":        func(d *stats.Dashboard) (any, []string, [][]string) { return statsGroups(d, d.BySector) },
	"regions":        func(d *stats.Dashboard) (any, []string, [][]string) { return statsGroups(d, d.ByRegion) },
	"escalations":    statsEscalations,
	"breaches":       statsBreaches,
	"oldest-open":    statsOldestOpen,
}

// statsQueryOf reads the period, group and limit parameters.
func statsQueryOf(c echo.Context) (stats.Query, error) {
	q := stats.Query{Period: stats.PeriodInput{Period: c.QueryParam("period"), From: c.QueryParam("from"),
		To: c.QueryParam("to"), Month: c.QueryParam("month")}, Group: c.QueryParam("group")}
	limit, err := queryInt(c, "limit", 10)
	if err != nil {
		return q, err
	}
	if limit < 1 || limit > 100 {
		return q, apperr.Fields{{Field: "limit", Rule: "range", Message: "limit must be from 1 to 100"}}.Err()
	}
	q.OldestLimit = limit
	return q, nil
}

// statsFormat reads format: json (default) or csv.
func statsFormat(c echo.Context) (string, error) {
	switch f := c.QueryParam("format"); f {
	case "", "json":
		return "json", nil
	case "csv":
		return "csv", nil
	}
	return "", apperr.Fields{{Field: "format", Rule: "enum", Message: "format must be json or csv"}}.Err()
}

func (h *handlers) statsDashboard(c echo.Context) error {
	q, err := statsQueryOf(c)
	if err != nil {
		return err
	}
	d, err := h.o.Stats.Dashboard(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	out := map[string]any{"meta": statsMeta(d)}
	for name, section := range statsSections {
		out[name], _, _ = section(d)
	}
	return c.JSON(http.StatusOK, out)
}

// statsSection serves one section of the dashboard.
func (h *handlers) statsSection(name string) echo.HandlerFunc {
	section := statsSections[name]
	return func(c echo.Context) error {
		q, err := statsQueryOf(c)
		if err != nil {
			return err
		}
		format, err := statsFormat(c)
		if err != nil {
			return err
		}
		d, err := h.o.Stats.Dashboard(c.Request().Context(), principal(c), q)
		if err != nil {
			return err
		}
		body, header, rows := section(d)
		if format == "json" {
			return c.JSON(http.StatusOK, map[string]any{"meta": statsMeta(d), name: body})
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(header)
		for _, r := range rows {
			_ = w.Write(csvSafe(r))
		}
		w.Flush()
		c.Response().Header().Set(echo.HeaderContentDisposition,
			`attachment; filename="certdesk-`+name+`-`+d.Span.Current.From.Format("20060102")+`-`+d.Span.Current.To.AddDate(0, 0, -1).Format("20060102")+`.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	}
}

type periodBody struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

func toPeriodBody(p stats.Period) periodBody {
	return periodBody{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), Days: p.Days()}
}

type bucketBody struct {
	Label string `json:"label"`
	From  string `json:"from"`
	To    string `json:"to"`
}

func statsMeta(d *stats.Dashboard) map[string]any {
	bs := make([]bucketBody, len(d.Buckets))
	for i, b := range d.Buckets {
		bs[i] = bucketBody{Label: b.Label, From: b.From.Format(time.DateOnly), To: b.To.Format(time.DateOnly)}
	}
	return map[string]any{
		"viewer":       map[string]any{"org": d.Viewer.Slug, "name": d.Viewer.Name, "time_zone": d.Viewer.TimeZone},
		"asked":        d.Span.Asked,
		"period":       toPeriodBody(d.Span.Current),
		"previous":     toPeriodBody(d.Span.Previous),
		"group":        string(d.Group),
		"buckets":      bs,
		"generated_at": d.GeneratedAt,
		"totals": map[string]int64{"new": d.Totals.New, "new_previous": d.Totals.NewPrevious,
			"significant": d.Totals.Significant, "significant_previous": d.Totals.SignificantPrevious,
			"open": d.Totals.Open, "open_significant": d.Totals.OpenSignificant,
			"open_unacknowledged": d.Totals.OpenUnacknowledged},
	}
}

type summaryStatsBody struct {
	Count         int64  `json:"count"`
	MedianSeconds *int64 `json:"median_seconds"`
	P90Seconds    *int64 `json:"p90_seconds"`
}

func toSummaryBody(s stats.Summary) summaryStatsBody {
	b := summaryStatsBody{Count: s.Count}
	if s.Count > 0 {
		m, p := int64(s.Median/time.Second), int64(s.P90/time.Second)
		b.MedianSeconds, b.P90Seconds = &m, &p
	}
	return b
}

func secs(s summaryStatsBody) (string, string) {
	if s.MedianSeconds == nil {
		return "", ""
	}
	return strconv.FormatInt(*s.MedianSeconds, 10), strconv.FormatInt(*s.P90Seconds, 10)
}

func statsResponseTimes(d *stats.Dashboard) (any, []string, [][]string) {
	type row struct {
		Metric   string           `json:"metric"`
		Current  summaryStatsBody `json:"current"`
		Previous summaryStatsBody `json:"previous"`
	}
	out := []row{}
	var rows [][]string
	for _, rt := range d.ResponseTimes {
		r := row{Metric: rt.Metric, Current: toSummaryBody(rt.Current), Previous: toSummaryBody(rt.Previous)}
		out = append(out, r)
		for _, p := range []struct {
			name string
			s    summaryStatsBody
		}{{"current", r.Current}, {"previous", r.Previous}} {
			m, p90 := secs(p.s)
			rows = append(rows, []string{rt.Metric, p.name, strconv.FormatInt(p.s.Count, 10), m, p90})
		}
	}
	return out, []string{"metric", "period", "count", "median_seconds", "p90_seconds"}, rows
}

type complianceBody struct {
	Kind   string `json:"kind"`
	OnTime int64  `json:"on_time"`
	Late   int64  `json:"late"`
	Missed int64  `json:"missed"`
	Open   int64  `json:"open"`
}

func toComplianceBodies(cs []stats.ComplianceCount) []complianceBody {
	out := make([]complianceBody, len(cs))
	for i, c := range cs {
		out[i] = complianceBody{Kind: string(c.Kind), OnTime: c.OnTime, Late: c.Late, Missed: c.Missed, Open: c.Open}
	}
	return out
}

func statsDeadlines(d *stats.Dashboard) (any, []string, [][]string) {
	type month struct {
		Month string           `json:"month"`
		From  string           `json:"from"`
		To    string           `json:"to"`
		Kinds []complianceBody `json:"kinds"`
	}
	months := []month{}
	var rows [][]string
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, m := range d.Compliance.Months {
		mb := month{Month: m.Bucket.Label, From: m.Bucket.From.Format(time.DateOnly), To: m.Bucket.To.Format(time.DateOnly),
			Kinds: toComplianceBodies(m.Kinds)}
		months = append(months, mb)
		for _, k := range mb.Kinds {
			rows = append(rows, []string{mb.Month, k.Kind, n(k.OnTime), n(k.Late), n(k.Missed), n(k.Open)})
		}
	}
	return map[string]any{"current": toComplianceBodies(d.Compliance.Current), "previous": toComplianceBodies(d.Compliance.Previous),
		"months": months}, []string{"month", "kind", "on_time", "late", "missed", "open"}, rows
}

type seriesBody struct {
	Key      string  `json:"key"`
	Counts   []int64 `json:"counts"`
	Total    int64   `json:"total"`
	Previous int64   `json:"previous"`
}

func toSeriesBodies(ts stats.TimeSeries) []seriesBody {
	out := []seriesBody{}
	for i, k := range ts.Keys {
		var total int64
		for _, v := range ts.Values[i] {
			total += v
		}
		out = append(out, seriesBody{Key: k, Counts: ts.Values[i], Total: total, Previous: ts.Previous[i]})
	}
	return out
}

func statsNewIncidents(d *stats.Dashboard) (any, []string, [][]string) {
	var rows [][]string
	for _, by := range []struct {
		name string
		ts   stats.TimeSeries
	}{{"category", d.NewByCategory}, {"severity", d.SeverityMix}} {
		for i, k := range by.ts.Keys {
			for j, b := range d.Buckets {
				rows = append(rows, []string{by.name, k, b.Label, b.From.Format(time.DateOnly), b.To.Format(time.DateOnly),
					strconv.FormatInt(by.ts.Values[i][j], 10)})
			}
		}
	}
	return map[string]any{"by_category": toSeriesBodies(d.NewByCategory), "by_severity": toSeriesBodies(d.SeverityMix)},
		[]string{"by", "key", "bucket", "from", "to", "count"}, rows
}

func statsOpen(d *stats.Dashboard) (any, []string, [][]string) {
	type cell struct {
		Stage    string `json:"stage"`
		Severity string `json:"severity"`
		Count    int64  `json:"count"`
	}
	cells := []cell{}
	var rows [][]string
	for i, st := range d.OpenByStage.Rows {
		for j, sev := range d.OpenByStage.Columns {
			cells = append(cells, cell{st, sev, d.OpenByStage.Values[i][j]})
			rows = append(rows, []string{st, sev, strconv.FormatInt(d.OpenByStage.Values[i][j], 10)})
		}
	}
	sig := map[string]int64{}
	for _, c := range d.OpenSignificant {
		sig[c.Key] = c.N
	}
	return map[string]any{"by_stage_and_severity": cells, "significant_by_severity": sig, "total": d.Totals.Open,
		"significant": d.Totals.OpenSignificant, "unacknowledged": d.Totals.OpenUnacknowledged}, []string{"stage", "severity", "count"}, rows
}

func statsGroups(_ *stats.Dashboard, gs []stats.GroupCount) (any, []string, [][]string) {
	type group struct {
		Key         string  `json:"key"`
		Label       string  `json:"label"`
		Org         *string `json:"org"`
		New         int64   `json:"new"`
		NewPrevious int64   `json:"new_previous"`
		Open        int64   `json:"open"`
	}
	out := []group{}
	var rows [][]string
	for _, g := range gs {
		gb := group{Key: g.Key, Label: g.Label, New: g.New, NewPrevious: g.NewPrevious, Open: g.Open}
		if g.Slug != "" {
			s := g.Slug
			gb.Org = &s
		}
		out = append(out, gb)
		rows = append(rows, []string{g.Key, g.Slug, g.Label, strconv.FormatInt(g.New, 10), strconv.FormatInt(g.NewPrevious, 10), strconv.FormatInt(g.Open, 10)})
	}
	return out, []string{"key", "org", "label", "new", "new_previous", "open"}, rows
}

func statsEscalations(d *stats.Dashboard) (any, []string, [][]string) {
	type cell struct {
		From      string           `json:"from"`
		To        string           `json:"to"`
		Requested int64            `json:"requested"`
		Accepted  int64            `json:"accepted"`
		Declined  int64            `json:"declined"`
		Returned  int64            `json:"returned"`
		Cancelled int64            `json:"cancelled"`
		Undecided int64            `json:"undecided"`
		Decide    summaryStatsBody `json:"time_to_decide"`
	}
	out := []cell{}
	var rows [][]string
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, e := range d.Escalations {
		c := cell{From: e.From.Slug, To: e.To.Slug, Requested: e.Requested, Accepted: e.Accepted, Declined: e.Declined,
			Returned: e.Returned, Cancelled: e.Cancelled, Undecided: e.Undecided, Decide: toSummaryBody(e.Decide)}
		out = append(out, c)
		m, p := secs(c.Decide)
		rows = append(rows, []string{c.From, c.To, n(c.Requested), n(c.Accepted), n(c.Declined), n(c.Returned), n(c.Cancelled), n(c.Undecided), m, p})
	}
	return out, []string{"from", "to", "requested", "accepted", "declined", "returned", "cancelled", "undecided",
		"decide_median_seconds", "decide_p90_seconds"}, rows
}

type breachBody struct {
	Breaches int64 `json:"breaches"`
	Known    int64 `json:"known"`
	People   int64 `json:"people"`
}

func statsBreaches(d *stats.Dashboard) (any, []string, [][]string) {
	toB := func(b stats.BreachCount) breachBody { return breachBody{b.Breaches, b.Known, b.People} }
	type bucket struct {
		Bucket string `json:"bucket"`
		breachBody
	}
	bs := []bucket{}
	var rows [][]string
	for i, b := range d.Breaches.ByBucket {
		bs = append(bs, bucket{d.Buckets[i].Label, toB(b)})
		rows = append(rows, []string{d.Buckets[i].Label, strconv.FormatInt(b.Breaches, 10), strconv.FormatInt(b.Known, 10), strconv.FormatInt(b.People, 10)})
	}
	return map[string]any{"current": toB(d.Breaches.Current), "previous": toB(d.Breaches.Previous), "by_bucket": bs},
		[]string{"bucket", "breaches", "known", "people"}, rows
}

func statsOldestOpen(d *stats.Dashboard) (any, []string, [][]string) {
	type item struct {
		ID             string     `json:"id"`
		Reference      string     `json:"reference"`
		Title          string     `json:"title"`
		Stage          string     `json:"stage"`
		Severity       string     `json:"severity"`
		TLP            string     `json:"tlp"`
		Significant    bool       `json:"significant"`
		ReportingOrg   string     `json:"reporting_org"`
		ReportedAt     time.Time  `json:"reported_at"`
		AcknowledgedAt *time.Time `json:"acknowledged_at"`
		AgeSeconds     int64      `json:"age_seconds"`
	}
	out := []item{}
	var rows [][]string
	for _, o := range d.OldestOpen {
		age := int64(d.GeneratedAt.Sub(o.ReportedAt) / time.Second)
		out = append(out, item{ID: o.ID.String(), Reference: o.Reference, Title: o.Title, Stage: string(o.Stage),
			Severity: string(o.Severity), TLP: string(o.TLP), Significant: o.Significant, ReportingOrg: o.ReportingOrg,
			ReportedAt: o.ReportedAt, AcknowledgedAt: o.AcknowledgedAt, AgeSeconds: age})
		ack := ""
		if o.AcknowledgedAt != nil {
			ack = o.AcknowledgedAt.Format(time.RFC3339)
		}
		rows = append(rows, []string{o.Reference, o.Title, string(o.Stage), string(o.Severity), string(o.TLP),
			strconv.FormatBool(o.Significant), o.ReportingOrg, o.ReportedAt.Format(time.RFC3339), ack, strconv.FormatInt(age, 10)})
	}
	return out, []string{"reference", "title", "stage", "severity", "tlp", "significant", "reporting_org", "reported_at",
		"acknowledged_at", "age_seconds"}, rows
}
