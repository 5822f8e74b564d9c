package stats

import (
	"slices"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Series names what a cell counts. The keys K1 and K2 of a cell mean what
// the series says; Day is a calendar day in the audience organisation's
// time zone, or Snapshot for counts of incidents as they are now.
type Series string

// The series of the roll-ups (docs/metrics.md, "Cells").
const (
	// New incidents by the day they were reported: K1 RSIT category ("" when
	// unclassified), K2 severity.
	SeriesNew Series = "new"
	// New significant incidents (NIS2): K1 severity.
	SeriesNewSignificant Series = "new_significant"
	// New personal-data breaches: K1 "known" or "unknown" (whether
	// affected_people is set), Total the people affected.
	SeriesBreach Series = "breach"
	// New incidents by region: K1 the organisation just below the audience
	// organisation on the way to the reporting organisation (the
	// reporting organisation itself when it is the audience organisation;
	// "" when the reporting organisation is not below it).
	SeriesNewRegion Series = "new_region"
	// New incidents by the reporting organisation's NIS2 sector: K1 sector.
	SeriesNewSector Series = "new_sector"
	// Time to acknowledge (reported → acknowledged), by the day of the
	// acknowledgement: K1 the duration's histogram bucket (DurationBucket).
	SeriesAcknowledge Series = "acknowledge"
	// Time to contain (reported → first move into recovery), by that day.
	SeriesContain Series = "contain"
	// Time to close (reported → closed), by the day it closed.
	SeriesClose Series = "close"
	// Time in each stage of closed incidents, by the day they closed: K1
	// stage, K2 bucket. Stages never visited are not counted.
	SeriesStage Series = "stage"
	// Legal deadlines by the day they fall due: K1 kind, K2 "met", "met_late"
	// or "unmet".
	SeriesDeadline Series = "deadline"
	// Open incidents now (Day is Snapshot): K1 stage, K2 severity.
	SeriesOpen Series = "open"
	// Open significant incidents now: K1 severity.
	SeriesOpenSignificant Series = "open_significant"
	// Open incidents not acknowledged yet.
	SeriesOpenUnacknowledged Series = "open_unacknowledged"
	// Open incidents now by region and by sector (K1 as for new ones).
	SeriesOpenRegion Series = "open_region"
	SeriesOpenSector Series = "open_sector"
)

// AllSeries lists every series.
var AllSeries = []Series{SeriesNew, SeriesNewSignificant, SeriesBreach, SeriesNewRegion, SeriesNewSector,
	SeriesAcknowledge, SeriesContain, SeriesClose, SeriesStage, SeriesDeadline, SeriesOpen, SeriesOpenSignificant,
	SeriesOpenUnacknowledged, SeriesOpenRegion, SeriesOpenSector}

// Snapshot is the Day of the series that count incidents as they are now.
var Snapshot = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// The deadline states of SeriesDeadline's K2.
const (
	DeadlineMet     = "met"
	DeadlineMetLate = "met_late"
	DeadlineUnmet   = "unmet"
)

// Cell is one counter of a roll-up: N incidents (and a Total, for sums
// such as people affected) in a series, on a day, under two keys.
type Cell struct {
	Series Series
	Day    time.Time // a calendar day (midnight UTC standing for the local date), or Snapshot
	K1, K2 string
	N      int64
	Total  int64
}

// Key identifies a cell without its counts.
type Key struct {
	Series Series
	Day    time.Time
	K1, K2 string
}

// Key returns the cell's key.
func (c Cell) Key() Key { return Key{c.Series, c.Day, c.K1, c.K2} }

// LocalDay returns the calendar day of t in loc, as midnight UTC of that
// date (the form Cell.Day has). It follows daylight-saving changes: 00:30
// local time on the day clocks change belongs to that day.
func LocalDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Cells returns the cells an incident adds to the roll-up of the audience
// organisation viewer, whose days are in loc. Every cell has N = 1 (and
// Total where the series sums something); the same incident gives the same
// cells to every viewer with the same time zone, except for the region.
func Cells(f *Facts, viewer uuid.UUID, loc *time.Location) []Cell {
	day := func(t time.Time) time.Time { return LocalDay(t, loc) }
	reported := day(f.ReportedAt)
	region := Region(f.Chain, viewer)
	out := []Cell{
		{Series: SeriesNew, Day: reported, K1: f.Category, K2: string(f.Severity), N: 1},
		{Series: SeriesNewRegion, Day: reported, K1: region, N: 1},
		{Series: SeriesNewSector, Day: reported, K1: f.Sector, N: 1},
	}
	if f.Significant {
		out = append(out, Cell{Series: SeriesNewSignificant, Day: reported, K1: string(f.Severity), N: 1})
	}
	if f.PersonalDataBreach {
		c := Cell{Series: SeriesBreach, Day: reported, K1: "unknown", N: 1}
		if f.AffectedPeople != nil {
			c.K1, c.Total = "known", *f.AffectedPeople
		}
		out = append(out, c)
	}
	measure := func(s Series, end *time.Time) {
		if end != nil {
			out = append(out, Cell{Series: s, Day: day(*end), K1: bucketKey(end.Sub(f.ReportedAt)), N: 1})
		}
	}
	measure(SeriesAcknowledge, f.AcknowledgedAt)
	measure(SeriesContain, f.ContainedAt)
	if !f.Open && f.ClosedAt != nil {
		measure(SeriesClose, f.ClosedAt)
		for i, s := range f.StageSeconds {
			if s > 0 {
				out = append(out, Cell{Series: SeriesStage, Day: day(*f.ClosedAt), K1: string(incident.Stages[i]),
					K2: bucketKey(time.Duration(s) * time.Second), N: 1})
			}
		}
	}
	for _, d := range f.Deadlines {
		state := DeadlineUnmet
		if d.MetAt != nil {
			state = DeadlineMet
			if d.MetAt.After(d.DueAt) {
				state = DeadlineMetLate
			}
		}
		out = append(out, Cell{Series: SeriesDeadline, Day: day(d.DueAt), K1: string(d.Kind), K2: state, N: 1})
	}
	if f.Open {
		out = append(out,
			Cell{Series: SeriesOpen, Day: Snapshot, K1: string(f.Stage), K2: string(f.Severity), N: 1},
			Cell{Series: SeriesOpenRegion, Day: Snapshot, K1: region, N: 1},
			Cell{Series: SeriesOpenSector, Day: Snapshot, K1: f.Sector, N: 1})
		if f.Significant {
			out = append(out, Cell{Series: SeriesOpenSignificant, Day: Snapshot, K1: string(f.Severity), N: 1})
		}
		if f.AcknowledgedAt == nil {
			out = append(out, Cell{Series: SeriesOpenUnacknowledged, Day: Snapshot, N: 1})
		}
	}
	return out
}

// Region is the region of an incident for a viewer: the organisation
// just below the viewer's on the chain from the reporting organisation up
// (so a national CERT sees regions, a regional CERT its cities), the
// reporting organisation itself when it is the viewer's, or "" when the
// reporting organisation is not below the viewer's.
func Region(chain []uuid.UUID, viewer uuid.UUID) string {
	i := slices.Index(chain, viewer)
	switch {
	case i < 0:
		return ""
	case i == 0:
		return chain[0].String()
	}
	return chain[i-1].String()
}

// Delta is a change of the roll-up rows of one organisation.
type Delta struct {
	OrgID uuid.UUID
	Cell
}

// Diff returns the changes of the roll-ups that replacing facts old (nil:
// none stored) with new (nil: none) makes: old's cells subtracted from the
// rows of old's audience, new's added to new's, netted per row; the zone
// of each organisation comes from zone. Rows that do not change are left
// out, so a change the metrics do not see writes nothing.
func Diff(old, new *Facts, zone func(uuid.UUID) *time.Location) []Delta {
	type rowKey struct {
		org uuid.UUID
		Key
	}
	sum := map[rowKey]*Delta{}
	var order []rowKey
	apply := func(f *Facts, sign int64) {
		if f == nil {
			return
		}
		for _, o := range f.Audience {
			for _, c := range Cells(f, o, zone(o)) {
				k := rowKey{o, c.Key()}
				d, ok := sum[k]
				if !ok {
					d = &Delta{OrgID: o, Cell: Cell{Series: c.Series, Day: c.Day, K1: c.K1, K2: c.K2}}
					sum[k] = d
					order = append(order, k)
				}
				d.N += sign * c.N
				d.Total += sign * c.Total
			}
		}
	}
	apply(old, -1)
	apply(new, 1)
	var out []Delta
	for _, k := range order {
		if d := sum[k]; d.N != 0 || d.Total != 0 {
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b Delta) int {
		if c := compareUUID(a.OrgID, b.OrgID); c != 0 {
			return c
		}
		return compareKey(a.Key(), b.Key())
	})
	return out
}

func compareKey(a, b Key) int {
	switch {
	case a.Series != b.Series:
		return cmpString(string(a.Series), string(b.Series))
	case !a.Day.Equal(b.Day):
		return a.Day.Compare(b.Day)
	case a.K1 != b.K1:
		return cmpString(a.K1, b.K1)
	}
	return cmpString(a.K2, b.K2)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }
