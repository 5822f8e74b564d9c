package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/dashboard"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func sample() *stats.Dashboard {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	cur := stats.Period{From: day("2026-11-01"), To: day("2026-12-01")}
	d := &stats.Dashboard{Viewer: stats.OrgLabel{Slug: "north", Name: "CERT North", TimeZone: "Europe/Berlin"},
		Span:  stats.Span{Current: cur, Previous: stats.Period{From: day("2026-10-01"), To: day("2026-11-01")}, Asked: "2026-11"},
		Group: stats.ByWeek, Buckets: stats.Buckets(cur, stats.ByWeek),
		Totals:          stats.Totals{New: 7, NewPrevious: 5, Open: 4, OpenSignificant: 2, OpenUnacknowledged: 1},
		OpenByStage:     stats.Matrix{Rows: []string{"response"}, Columns: []string{"low", "high"}, Values: [][]int64{{1, 3}}},
		OpenSignificant: []stats.Count{{Key: "low", N: 0}, {Key: "high", N: 2}},
		ByRegion:        []stats.GroupCount{{Key: uuid.NewString(), Label: "City", Slug: "city", New: 7, Open: 4}},
		Escalations: []stats.EscalationCell{{From: stats.OrgLabel{Slug: "north", Name: "CERT North"}, To: stats.OrgLabel{Slug: "nat", Name: "National"},
			Requested: 3, Accepted: 2, Declined: 1, Decide: stats.Summary{Count: 3, Median: 20 * time.Minute, P90: time.Hour}}},
		Compliance:    stats.Compliance{Current: []stats.ComplianceCount{{Kind: incident.GDPRNotification, OnTime: 2, Missed: 1}}},
		ResponseTimes: []stats.ResponseTime{{Metric: stats.MetricAcknowledge, Current: stats.Summary{Count: 7, Median: time.Hour, P90: 3 * time.Hour}}},
		ResponseTrend: map[string][]stats.Summary{},
	}
	n := len(d.Buckets)
	d.NewByCategory = stats.TimeSeries{Keys: []string{"fraud"}, Values: [][]int64{make([]int64, n)}, Previous: []int64{5}}
	d.NewByCategory.Values[0][1] = 7
	d.SeverityMix = stats.TimeSeries{Keys: []string{"high"}, Values: [][]int64{make([]int64, n)}, Previous: []int64{5}}
	d.Breaches.ByBucket = make([]stats.BreachCount, n)
	return d
}

// Every chart of the dashboard has a title and a description that say its
// figures in words, draws valid SVG, and links its bars and cells to the
// queue filtered to what they count.
func TestCharts(t *testing.T) {
	var drilled []url.Values
	drill := func(f url.Values) string { drilled = append(drilled, f); return "/queue?" + f.Encode() }
	cs := dashboard.Charts(sample(), drill)
	require.Len(t, cs, 11)
	keys := map[string]chart.Chart{}
	for _, c := range cs {
		keys[c.Key] = c.Chart
		svg := string(c.Chart.SVG())
		require.NotContains(t, svg, "style=", c.Key)
		// A chart is an image, or a figure when it holds drill-down links
		// (assistive technology would hide links inside an image).
		require.Regexp(t, `role="(img|figure)"`, svg, c.Key)
		require.NotEmpty(t, c.Chart.Table().Header, c.Key)
	}
	require.Contains(t, string(keys[dashboard.Escalations].SVG()), "2 accepted · 1 declined · median 20 min")
	require.Contains(t, string(keys[dashboard.NewByClass].SVG()), "7 new incidents in November 2026 (▲ 2 vs the period before (5))")
	require.Contains(t, string(keys[dashboard.SignificantOpen].SVG()), `<a href="/queue?severity=high&amp;significant=true&amp;status=open">`)
	require.Contains(t, string(keys[dashboard.NewByClass].SVG()), `category=fraud&amp;created_after=2026-11-01T23%3A00%3A00Z&amp;created_before=2026-11-08T23%3A00%3A00Z`,
		"the week of 2 to 8 November in Berlin, as instants")
	require.True(t, strings.Contains(string(keys[dashboard.OpenByStage].SVG()), "stage=response"))
	require.NotEmpty(t, drilled)
	require.Equal(t, "November 2026", dashboard.PeriodName(sample().Span.Current))
	require.Equal(t, "3 breaches", dashboard.Plural(3, "breach"))
}
