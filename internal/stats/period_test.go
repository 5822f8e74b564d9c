package stats_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/stretchr/testify/require"
)

func TestPeriods(t *testing.T) {
	t.Parallel()
	today := day("2026-12-03")
	for _, c := range []struct {
		in                         stats.PeriodInput
		from, to, prevFrom, prevTo string
	}{
		{stats.PeriodInput{}, "2026-11-04", "2026-12-04", "2026-10-05", "2026-11-04"},
		{stats.PeriodInput{Period: "P7D"}, "2026-11-27", "2026-12-04", "2026-11-20", "2026-11-27"},
		{stats.PeriodInput{Period: "p2w"}, "2026-11-20", "2026-12-04", "2026-11-06", "2026-11-20"},
		{stats.PeriodInput{Period: "P1M"}, "2026-11-04", "2026-12-04", "2026-10-04", "2026-11-04"},
		{stats.PeriodInput{Period: "P1Y"}, "2025-12-04", "2026-12-04", "2024-12-04", "2025-12-04"},
		{stats.PeriodInput{Month: "2026-11"}, "2026-11-01", "2026-12-01", "2026-10-01", "2026-11-01"},
		{stats.PeriodInput{Month: "2026-03"}, "2026-03-01", "2026-04-01", "2026-02-01", "2026-03-01"},
		{stats.PeriodInput{From: "2026-11-01", To: "2026-11-15"}, "2026-11-01", "2026-11-15", "2026-10-18", "2026-11-01"},
		{stats.PeriodInput{From: "2026-11-20"}, "2026-11-20", "2026-12-04", "2026-11-06", "2026-11-20"},
	} {
		s, err := c.in.Resolve(today)
		require.NoError(t, err, "%+v", c.in)
		require.Equal(t, []string{c.from, c.to, c.prevFrom, c.prevTo},
			[]string{s.Current.From.Format("2006-01-02"), s.Current.To.Format("2006-01-02"),
				s.Previous.From.Format("2006-01-02"), s.Previous.To.Format("2006-01-02")}, "%+v", c.in)
	}
	for _, c := range []struct {
		in          stats.PeriodInput
		field, rule string
	}{
		{stats.PeriodInput{Period: "PT24H"}, "period", "iso8601_duration"},
		{stats.PeriodInput{Period: "P0D"}, "period", "iso8601_duration"},
		{stats.PeriodInput{Period: "30 days"}, "period", "iso8601_duration"},
		{stats.PeriodInput{Period: "P5Y"}, "period", "max_days"},
		{stats.PeriodInput{Period: "P1M", Month: "2026-11"}, "period", "exclusive"},
		{stats.PeriodInput{Month: "November"}, "month", "format"},
		{stats.PeriodInput{From: "2026-11-15", To: "2026-11-01"}, "to", "after_from"},
		{stats.PeriodInput{From: "yesterday"}, "from", "format"},
	} {
		_, err := c.in.Resolve(today)
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae, "%+v", c.in)
		require.Equal(t, c.field, ae.Fields[0].Field, "%+v", c.in)
		require.Equal(t, c.rule, ae.Fields[0].Rule, "%+v", c.in)
	}
}

// Weeks are ISO weeks (Monday to Sunday), cut to the period.
func TestBuckets(t *testing.T) {
	t.Parallel()
	p := stats.Period{From: day("2026-11-04"), To: day("2026-12-04")}
	var labels []string
	for _, b := range stats.Buckets(p, stats.ByWeek) {
		labels = append(labels, b.Label+" "+b.From.Format("01-02")+".."+b.To.Format("01-02"))
	}
	require.Equal(t, []string{"2026-W45 11-04..11-09", "2026-W46 11-09..11-16", "2026-W47 11-16..11-23",
		"2026-W48 11-23..11-30", "2026-W49 11-30..12-04"}, labels)
	require.Len(t, stats.Buckets(p, stats.ByDay), 30)
	months := stats.Buckets(p, stats.ByMonth)
	require.Equal(t, "2026-11", months[0].Label)
	require.Equal(t, "2026-12", months[1].Label)
	g, err := stats.ParseGrouping("", p)
	require.NoError(t, err)
	require.Equal(t, stats.ByWeek, g)
}
