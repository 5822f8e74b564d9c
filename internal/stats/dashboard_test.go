package stats_test

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The dashboard's figures against a hand-computed story in Berlin across
// the start of summer time (2027-03-28, 02:00 CET → 03:00 CEST), with
// incidents still open, deadlines met on time, late, missed (one of them
// earlier today) and still open (one of them later today), a TLP:RED
// incident the regional viewer is not a participant of, and one of another
// region.
func TestDashboardFiguresByHand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx, app := w.ctx, w.h.App
	to := func(ts string) { w.h.Advance(at(ts).Sub(w.h.Clock.Now())) }
	report := func(who string, n incident.NewIncident) uuid.UUID {
		t.Helper()
		n.Title = "incident"
		inc, _, err := app.Incidents.Create(ctx, w.users[who], n, nil)
		require.NoError(t, err)
		require.NoError(t, app.Incidents.Route(ctx, inc.ID, nil))
		return inc.ID
	}
	sys := access.System
	people := int64(1200)

	to("2027-03-26T10:00:00Z")
	a := report("n1-rep", incident.NewIncident{Severity: incident.High, Category: "malicious-code", Type: "infected-system",
		Significant: true, PersonalDataBreach: true, AffectedPeople: &people})
	to("2027-03-26T12:00:00Z")
	_, err := app.Incidents.Acknowledge(ctx, sys, a.String()) // 2 h
	require.NoError(t, err)
	to("2027-03-26T16:00:00Z")
	_, err = app.Incidents.Transition(ctx, sys, a.String(), incident.Recovery, "", nil) // contained after 6 h
	require.NoError(t, err)
	to("2027-03-27T06:00:00Z")
	_, err = app.Incidents.MarkDeadlineMet(ctx, sys, a.String(), incident.NIS2EarlyWarning, "EW-1") // due 27th 10:00Z: on time
	require.NoError(t, err)
	to("2027-03-27T16:00:00Z")
	_, err = app.Incidents.Close(ctx, sys, a.String(), "restored", nil) // 30 h; 6 h in response, 24 h in recovery
	require.NoError(t, err)
	to("2027-03-27T23:30:00Z") // 00:30 CET on the 28th in Berlin
	b := report("n1-rep", incident.NewIncident{Severity: incident.Medium, TLP: incident.TLPGreen, PersonalDataBreach: true})
	to("2027-03-28T03:30:00Z") // 4 h, across the change of clocks
	_, err = app.Incidents.Acknowledge(ctx, sys, b.String())
	require.NoError(t, err)
	to("2027-03-28T12:00:00Z")
	report("n2-rep", incident.NewIncident{Severity: incident.Low, Significant: true}) // C: early warning due 29th 12:00Z
	report("s1-rep", incident.NewIncident{Severity: incident.High})                   // D: another region
	report("n1-rep", incident.NewIncident{Severity: incident.Critical, TLP: incident.TLPRed})
	to("2027-03-29T08:00:00Z")
	report("n2-rep", incident.NewIncident{Severity: incident.Medium, Significant: true}) // G: early warning due today 08:00Z
	to("2027-03-29T11:00:00Z")
	_, err = app.Incidents.MarkDeadlineMet(ctx, sys, a.String(), incident.NIS2Notification, "N-1") // due 29th 10:00Z: late
	require.NoError(t, err)
	to("2027-03-29T14:00:00Z")
	report("n1-rep", incident.NewIncident{Severity: incident.Critical, Significant: true}) // F: early warning due today 14:00Z
	to("2027-03-30T13:00:00Z")                                                             // now: 15:00 CEST on the 30th

	for _, compact := range []bool{false, true} {
		if compact {
			_, err := app.StatsMaintainer.Compact(ctx)
			require.NoError(t, err)
		}
		d, err := app.Stats.Dashboard(ctx, w.users["north-viewer"], stats.Query{Period: stats.PeriodInput{Month: "2027-03"}})
		require.NoError(t, err)
		require.Equal(t, "2027-03-01/2027-03-31", d.Span.Current.String())
		require.Equal(t, stats.ByWeek, d.Group)
		require.Equal(t, stats.Totals{New: 5, Significant: 4, Open: 4, OpenSignificant: 3, OpenUnacknowledged: 3}, d.Totals,
			"A B C F G: not the RED one, not the other region's")
		within := func(metric string, want time.Duration, got time.Duration) {
			t.Helper()
			require.InDelta(t, want.Seconds(), got.Seconds(), want.Seconds()*stats.MaxRelativeError+1, metric)
		}
		times := map[string]stats.ResponseTime{}
		for _, rt := range d.ResponseTimes {
			times[rt.Metric] = rt
		}
		require.EqualValues(t, 2, times["acknowledge"].Current.Count)
		within("acknowledge median", 2*time.Hour, times["acknowledge"].Current.Median)
		within("acknowledge p90", 4*time.Hour, times["acknowledge"].Current.P90)
		within("contain", 6*time.Hour, times["contain"].Current.Median)
		within("close", 30*time.Hour, times["close"].Current.Median)
		within("response", 6*time.Hour, times["stage:response"].Current.Median)
		within("recovery", 24*time.Hour, times["stage:recovery"].Current.Median)
		require.Zero(t, times["stage:preparation"].Current.Count)
		require.Zero(t, times["acknowledge"].Previous.Count)

		byKind := map[incident.DeadlineKind]stats.ComplianceCount{}
		for _, c := range d.Compliance.Current {
			byKind[c.Kind] = c
		}
		require.Equal(t, stats.ComplianceCount{Kind: incident.NIS2EarlyWarning, OnTime: 1, Missed: 2, Open: 1}, byKind[incident.NIS2EarlyWarning],
			"A on time; C missed; G missed earlier today; F due later today")
		require.Equal(t, stats.ComplianceCount{Kind: incident.NIS2Notification, Late: 1, Open: 1}, byKind[incident.NIS2Notification],
			"A late; C due the 31st; F and G fall due in April")
		require.Equal(t, stats.ComplianceCount{Kind: incident.GDPRNotification, Missed: 1, Open: 1}, byKind[incident.GDPRNotification],
			"A missed; B due 00:30 CEST on the 31st")
		require.Equal(t, stats.BreachCount{Breaches: 2, Known: 1, People: 1200}, d.Breaches.Current)

		sev := map[string]int64{}
		for i, k := range d.SeverityMix.Keys {
			for _, v := range d.SeverityMix.Values[i] {
				sev[k] += v
			}
		}
		require.Equal(t, map[string]int64{"low": 1, "medium": 2, "high": 1, "critical": 1}, sev)
		var lastWeek []int64
		for i := range d.SeverityMix.Keys {
			lastWeek = append(lastWeek, d.SeverityMix.Values[i][len(d.Buckets)-1])
		}
		require.Equal(t, "2027-W12", d.Buckets[len(d.Buckets)-2].Label, "Monday 22 to Sunday 28 March")
		require.Equal(t, "2027-W13", d.Buckets[len(d.Buckets)-1].Label)
		require.Equal(t, int64(2), sum(lastWeek), "F and G in the week from Monday the 29th; B counts on Sunday the 28th in Berlin")

		regions := map[string]int64{}
		for _, g := range d.ByRegion {
			regions[g.Slug] = g.New
		}
		require.Equal(t, map[string]int64{"n1": 3, "n2": 2}, regions, "a region's regions are its cities")
		require.Len(t, d.OldestOpen, 4)
		require.Equal(t, b, d.OldestOpen[0].ID)

		nd, err := app.Stats.Dashboard(ctx, w.users["national-coord"], stats.Query{Period: stats.PeriodInput{Month: "2027-03"}})
		require.NoError(t, err)
		require.EqualValues(t, 6, nd.Totals.New, "the national CERT also sees the other region's, not the RED one")
		nregions := map[string]int64{}
		for _, g := range nd.ByRegion {
			nregions[g.Slug] = g.New
		}
		require.Equal(t, map[string]int64{"north": 5, "south": 1}, nregions)
	}
}

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}
