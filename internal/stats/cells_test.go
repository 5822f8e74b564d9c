package stats_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func bucketOf(d time.Duration) string {
	return json.Number(itoa(stats.DurationBucket(d))).String()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The days of cells are calendar days in the viewer's time zone, across
// the end of summer time: in Berlin, 2026-10-24 22:30 UTC is 00:30 on the
// 25th (CEST), and 2026-10-25 23:30 UTC is 00:30 on the 26th (CET); in New
// York both are still the evening before.
func TestCellsAreLocalDaysAcrossDST(t *testing.T) {
	t.Parallel()
	viewer := uuid.New()
	acked := at("2026-10-25T23:30:00Z")
	f := &stats.Facts{ReportingOrgID: viewer, Audience: []uuid.UUID{viewer}, Chain: []uuid.UUID{viewer}, Open: true,
		Stage: incident.Response, Severity: incident.High, Category: "fraud", Sector: "health",
		ReportedAt: at("2026-10-24T22:30:00Z"), AcknowledgedAt: &acked}
	key := func(cs []stats.Cell, s stats.Series) []stats.Cell {
		var out []stats.Cell
		for _, c := range cs {
			if c.Series == s {
				out = append(out, c)
			}
		}
		return out
	}
	berlin := stats.Cells(f, viewer, mustZone(t, "Europe/Berlin"))
	require.Equal(t, []stats.Cell{{Series: stats.SeriesNew, Day: day("2026-10-25"), K1: "fraud", K2: "high", N: 1}}, key(berlin, stats.SeriesNew))
	require.Equal(t, []stats.Cell{{Series: stats.SeriesAcknowledge, Day: day("2026-10-26"), K1: bucketOf(25 * time.Hour), N: 1}},
		key(berlin, stats.SeriesAcknowledge))
	ny := stats.Cells(f, viewer, mustZone(t, "America/New_York"))
	require.Equal(t, day("2026-10-24"), key(ny, stats.SeriesNew)[0].Day)
	require.Equal(t, day("2026-10-25"), key(ny, stats.SeriesAcknowledge)[0].Day)
	// Open now: snapshot cells, not days.
	require.Equal(t, []stats.Cell{{Series: stats.SeriesOpen, Day: stats.Snapshot, K1: "response", K2: "high", N: 1}}, key(ny, stats.SeriesOpen))
	require.Len(t, key(ny, stats.SeriesOpenUnacknowledged), 0, "acknowledged")
	require.Len(t, key(ny, stats.SeriesClose), 0, "still open: no time to close")
}

// An incident's audience is the organisation branches of the visibility
// rule: none for TLP:RED, the reporting and coordinating organisation for
// TLP:AMBER+STRICT, and also every CERT above the reporter below that.
func TestAudience(t *testing.T) {
	t.Parallel()
	national, region, city, coord := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	chain := []stats.ChainOrg{{ID: city, Kind: org.LocalAuthority}, {ID: region, Kind: org.RegionalCERT}, {ID: national, Kind: org.NationalCERT}}
	sorted := func(ids ...uuid.UUID) []uuid.UUID {
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		return ids
	}
	for _, c := range []struct {
		tlp  incident.TLP
		want []uuid.UUID
	}{
		{incident.TLPRed, nil},
		{incident.TLPAmberStrict, sorted(city, coord)},
		{incident.TLPAmber, sorted(city, coord, region, national)},
		{incident.TLPGreen, sorted(city, coord, region, national)},
		{incident.TLPClear, sorted(city, coord, region, national)},
	} {
		require.Equal(t, c.want, stats.Audience(c.tlp, city, &coord, chain), c.tlp)
	}
	// Routed to its own region: no duplicate.
	require.Equal(t, sorted(city, region, national), stats.Audience(incident.TLPAmber, city, &region, chain))
	// The regions of a city's incident: the region for the national CERT,
	// the city for the region, the city itself for the city, none for others.
	ids := []uuid.UUID{city, region, national}
	require.Equal(t, region.String(), stats.Region(ids, national))
	require.Equal(t, city.String(), stats.Region(ids, region))
	require.Equal(t, city.String(), stats.Region(ids, city))
	require.Equal(t, "", stats.Region(ids, coord))
}

// Stage durations count the time in each stage while open, across moves
// back, a close and a reopen; the time to contain is the first move into
// recovery; an incident reported in recovery has none.
func TestStageDurations(t *testing.T) {
	t.Parallel()
	t0 := at("2026-11-02T08:00:00Z")
	ev := func(kind incident.EventKind, h float64, data string) incident.Event {
		return incident.Event{Kind: kind, OccurredAt: t0.Add(time.Duration(h * float64(time.Hour))), Data: json.RawMessage(data)}
	}
	closed := t0.Add(9 * time.Hour)
	inc := &incident.Incident{ID: uuid.New(), TLP: incident.TLPAmber, Stage: incident.Recovery, Status: incident.Closed,
		ReportedAt: t0, ClosedAt: &closed}
	src := stats.Source{Incident: inc, StageEvents: []incident.Event{
		ev(incident.EventCreated, 0, `{"stage":"preparation"}`),
		ev(incident.EventStageChanged, 1, `{"from":"preparation","to":"response"}`),
		ev(incident.EventStageChanged, 3, `{"from":"response","to":"recovery"}`),
		ev(incident.EventStageChanged, 4, `{"from":"recovery","to":"response"}`),
		ev(incident.EventStageChanged, 5, `{"from":"response","to":"recovery"}`),
		ev(incident.EventClosed, 6, `{}`),
		ev(incident.EventReopened, 8, `{}`),
		ev(incident.EventClosed, 9, `{}`),
	}}
	f := stats.ComputeFacts(src)
	require.Equal(t, [4]int64{0, 3600, 3 * 3600, 3 * 3600}, f.StageSeconds, "prevention, preparation 1 h, response 2+1 h, recovery 1+1+1 h")
	require.Equal(t, t0.Add(3*time.Hour), *f.ContainedAt)
	require.Equal(t, closed, *f.ClosedAt)

	inc2 := *inc
	inc2.Stage, inc2.Status, inc2.ClosedAt = incident.Recovery, incident.Open, nil
	f2 := stats.ComputeFacts(stats.Source{Incident: &inc2, StageEvents: []incident.Event{ev(incident.EventCreated, 0, `{"stage":"recovery"}`)}})
	require.Nil(t, f2.ContainedAt, "reported in recovery: contained before certdesk knew")
	require.Nil(t, f2.ClosedAt)
}

// A percentile read from the histogram is within MaxRelativeError of the
// exact nearest-rank percentile, whatever the durations.
func TestHistogramQuantileErrorBound(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(400)
		ds := make([]time.Duration, n)
		h := stats.Histogram{}
		for i := range ds {
			ds[i] = time.Duration(math.Exp(rng.Float64()*17)) * time.Second // 1 s to ~280 days
			h.Add(stats.DurationBucket(ds[i]), 1)
		}
		slices.Sort(ds)
		for _, q := range []float64{0.5, 0.9} {
			exact := ds[int(math.Ceil(q*float64(n)))-1]
			got, ok := h.Quantile(q)
			require.True(t, ok)
			rel := math.Abs(got.Seconds()-exact.Seconds()) / exact.Seconds()
			require.LessOrEqual(t, rel, stats.MaxRelativeError+0.5/exact.Seconds(), "trial %d q %v: %v vs %v", trial, q, got, exact)
		}
	}
	require.InDelta(t, 0.0219, stats.MaxRelativeError, 0.0001)
	_, ok := stats.Histogram{}.Quantile(0.5)
	require.False(t, ok)
	require.Equal(t, -1, stats.DurationBucket(0))
}

// Roll-up deltas: a change that the metrics do not see writes nothing; a
// TLP raised to RED takes every cell out of every organisation's rows.
func TestDiff(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	f := &stats.Facts{ReportingOrgID: a, Audience: []uuid.UUID{a, b}, Chain: []uuid.UUID{a, b}, Open: true, Stage: incident.Response,
		Severity: incident.Low, ReportedAt: at("2026-11-02T08:00:00Z")}
	utc := func(uuid.UUID) *time.Location { return time.UTC }
	require.Empty(t, stats.Diff(f, f, utc))
	added := stats.Diff(nil, f, utc)
	require.Len(t, added, 2*len(stats.Cells(f, a, time.UTC)))
	red := *f
	red.Audience = nil
	removed := stats.Diff(f, &red, utc)
	require.Len(t, removed, len(added))
	for _, d := range removed {
		require.EqualValues(t, -1, d.N)
	}
}
