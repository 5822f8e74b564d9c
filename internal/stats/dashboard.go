package stats

import (
	"context"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Dashboard is every figure of a viewer's dashboard for a period, compared
// with the period before.
type Dashboard struct {
	Viewer      OrgLabel
	Span        Span
	Group       Grouping
	Buckets     []Bucket // the current period cut by Group
	GeneratedAt time.Time
	Totals      Totals
	// ResponseTimes: acknowledge, contain, close, then the time in each
	// stage (stage:prevention … stage:recovery).
	ResponseTimes []ResponseTime
	// ResponseTrend is, for acknowledge, contain and close, the summary of
	// each bucket of Buckets.
	ResponseTrend map[string][]Summary
	Compliance    Compliance
	// NewByCategory counts new incidents per bucket by RSIT category
	// (Keys; "" is unclassified); SeverityMix by severity.
	NewByCategory TimeSeries
	SeverityMix   TimeSeries
	// OpenByStage is the open incidents now by stage (rows) and severity
	// (columns); OpenSignificant the open significant ones by severity.
	OpenByStage     Matrix
	OpenSignificant []Count
	BySector        []GroupCount
	ByRegion        []GroupCount
	Escalations     []EscalationCell
	Breaches        Breaches
	OldestOpen      []OpenIncident
	// CountsRed says that a TLP:RED incident (which the viewer sees as a
	// named participant) is among those counted or listed: a document of
	// these figures must be marked TLP:RED.
	CountsRed bool
}

// Totals are the headline counts.
type Totals struct {
	New, NewPrevious                 int64
	Significant, SignificantPrevious int64 // new significant incidents (NIS2)
	Open, OpenSignificant            int64
	OpenUnacknowledged               int64
}

// Summary is a distribution of durations: how many, the median and the
// 90th percentile (nearest rank, within MaxRelativeError).
type Summary struct {
	Count       int64
	Median, P90 time.Duration // zero when Count is 0
}

// ResponseTime is one duration metric in the period and the one before.
type ResponseTime struct {
	Metric            string // acknowledge, contain, close, stage:<stage>
	Current, Previous Summary
}

// Compliance is legal deadline compliance: per kind for the period and the
// one before, and per month of the period.
type Compliance struct {
	Current, Previous []ComplianceCount // one per kind, in DeadlineKinds order
	Months            []ComplianceMonth
}

// ComplianceCount counts deadlines of one kind that fall due in a
// period by outcome: met on time, met late, missed (due and not met), and
// open (not met, not due yet).
type ComplianceCount struct {
	Kind                       incident.DeadlineKind
	OnTime, Late, Missed, Open int64
}

// Total is every deadline counted.
func (c ComplianceCount) Total() int64 { return c.OnTime + c.Late + c.Missed + c.Open }

// ComplianceMonth is compliance for the deadlines falling due in one
// month (cut to the period).
type ComplianceMonth struct {
	Bucket Bucket
	Kinds  []ComplianceCount
}

// TimeSeries counts per bucket and key.
type TimeSeries struct {
	Keys   []string
	Values [][]int64 // [key][bucket], over Dashboard.Buckets
	// Previous is each key's total in the previous period.
	Previous []int64
}

// Matrix counts by two keys.
type Matrix struct {
	Rows, Columns []string
	Values        [][]int64 // [row][column]
}

// Count is a count under one key.
type Count struct {
	Key string
	N   int64
}

// GroupCount counts incidents of a sector or a region: new in the period
// and the one before, and open now.
type GroupCount struct {
	Key              string // a sector, or a region's organisation ID ("" outside the viewer's constituency)
	Label            string // the sector, or the region's name
	Slug             string // the region's slug
	New, NewPrevious int64
	Open             int64
}

// EscalationCell is one cell of the escalation matrix: escalations from
// one organisation to another requested in the period, by their state
// now, and the time the receiving organisation took to decide.
type EscalationCell struct {
	From, To                                           OrgLabel
	Requested                                          int64 // all of them
	Accepted, Declined, Returned, Cancelled, Undecided int64
	Decide                                             Summary // requested → accepted, declined or returned (decided_at keeps the acceptance); exact nearest rank
}

// Breaches counts personal-data breaches reported in the period, the
// one before, and per bucket.
type Breaches struct {
	Current, Previous BreachCount
	ByBucket          []BreachCount
}

// BreachCount counts breaches and the people they affect (where known).
type BreachCount struct {
	Breaches int64
	Known    int64 // breaches whose number of people affected is known
	People   int64 // people affected, summed over the known ones
}

// The response-time metrics.
const (
	MetricAcknowledge = "acknowledge"
	MetricContain     = "contain"
	MetricClose       = "close"
)

// ResponseMetrics lists the response-time metrics in order.
var ResponseMetrics = func() []string {
	out := []string{MetricAcknowledge, MetricContain, MetricClose}
	for _, s := range incident.Stages {
		out = append(out, "stage:"+string(s))
	}
	return out
}()

// Dashboard computes every figure of p's dashboard for q's period, over
// the incidents p may see.
func (s *Service) Dashboard(ctx context.Context, p access.Principal, q Query) (*Dashboard, error) {
	if err := viewerOf(p); err != nil {
		return nil, err
	}
	var d *Dashboard
	err := s.store.InStatsSnapshot(ctx, func(ctx context.Context, r Reader) error {
		v, err := r.ViewerOrg(ctx, p.OrgID)
		if err != nil {
			return err
		}
		loc := zoneOf(v.TimeZone)
		now := s.now()
		today := LocalDay(now, loc)
		span, err := q.Period.Resolve(today)
		if err != nil {
			return err
		}
		group, err := ParseGrouping(q.Group, span.Current)
		if err != nil {
			return err
		}
		cells, red, err := viewerCells(ctx, r, p, loc, span.Previous.From, span.Current.To)
		if err != nil {
			return err
		}
		var missedToday map[incident.DeadlineKind]int64
		if span.Current.Contains(today) {
			unmet, err := r.UnmetDue(ctx, p, Midnight(today, loc), Midnight(today.AddDate(0, 0, 1), loc))
			if err != nil {
				return err
			}
			missedToday = map[incident.DeadlineKind]int64{}
			for _, u := range unmet {
				if u.DueAt.Before(now) {
					missedToday[u.Kind]++
				}
			}
		}
		limit := q.OldestLimit
		if limit <= 0 {
			limit = 10
		}
		oldest, err := r.OldestOpen(ctx, p, min(limit, 100))
		if err != nil {
			return err
		}
		escs, err := r.Escalations(ctx, p, Midnight(span.Current.From, loc), Midnight(span.Current.To, loc))
		if err != nil {
			return err
		}
		d = &Dashboard{Viewer: v, Span: span, Group: group, Buckets: Buckets(span.Current, group), GeneratedAt: now.UTC(),
			OldestOpen: oldest, CountsRed: red}
		for _, o := range oldest {
			d.CountsRed = d.CountsRed || o.TLP == incident.TLPRed
		}
		d.fill(cells, today, missedToday)
		return d.label(ctx, r, escs)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Midnight is the instant a calendar day (as LocalDay gives it) begins in
// loc.
func Midnight(day time.Time, loc *time.Location) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
}

// viewerCells sums, for p, its organisation's roll-up rows on the days
// [from, to) and now, and the cells of the incidents it sees beyond its
// organisation's audience; red says whether a TLP:RED incident gave a cell.
func viewerCells(ctx context.Context, r Reader, p access.Principal, loc *time.Location, from, to time.Time) (cells map[Key]Cell, red bool, err error) {
	rows, err := r.RollupCells(ctx, p.OrgID, from, to)
	if err != nil {
		return nil, false, err
	}
	extras, err := r.ExtraFacts(ctx, p)
	if err != nil {
		return nil, false, err
	}
	out := map[Key]Cell{}
	add := func(c Cell) {
		k := c.Key()
		sum := out[k]
		sum.Series, sum.Day, sum.K1, sum.K2 = c.Series, c.Day, c.K1, c.K2
		sum.N += c.N
		sum.Total += c.Total
		out[k] = sum
	}
	for _, c := range rows {
		add(c)
	}
	for _, f := range extras {
		for _, c := range Cells(f, p.OrgID, loc) {
			if c.Day.Equal(Snapshot) || (!c.Day.Before(from) && c.Day.Before(to)) {
				add(c)
				red = red || f.TLP == incident.TLPRed
			}
		}
	}
	// A total and its deltas may cancel out (an incident moved away):
	// such a key counts nothing.
	maps.DeleteFunc(out, func(_ Key, c Cell) bool { return c.N == 0 && c.Total == 0 })
	return out, red, nil
}

// fill computes the figures from the summed cells.
func (d *Dashboard) fill(cells map[Key]Cell, today time.Time, missedToday map[incident.DeadlineKind]int64) {
	cur, prev := d.Span.Current, d.Span.Previous
	bucketOf := func(day time.Time) int {
		for i, b := range d.Buckets {
			if !day.Before(b.From) && day.Before(b.To) {
				return i
			}
		}
		return -1
	}
	months := Buckets(cur, ByMonth)
	monthOf := func(day time.Time) int {
		for i, b := range months {
			if !day.Before(b.From) && day.Before(b.To) {
				return i
			}
		}
		return -1
	}
	trend := map[string][]Histogram{}
	for _, m := range []string{MetricAcknowledge, MetricContain, MetricClose} {
		trend[m] = make([]Histogram, len(d.Buckets))
		for i := range trend[m] {
			trend[m][i] = Histogram{}
		}
	}
	type pair struct{ cur, prev Histogram }
	hists := map[string]*pair{}
	hist := func(metric string) *pair {
		if h, ok := hists[metric]; ok {
			return h
		}
		h := &pair{Histogram{}, Histogram{}}
		hists[metric] = h
		return h
	}
	byCat, bySev := map[string][]int64{}, map[string][]int64{}
	catPrev, sevPrev := map[string]int64{}, map[string]int64{}
	series := func(m map[string][]int64, key string) []int64 {
		if m[key] == nil {
			m[key] = make([]int64, len(d.Buckets))
		}
		return m[key]
	}
	sectors, regions := map[string]*GroupCount{}, map[string]*GroupCount{}
	group := func(m map[string]*GroupCount, key string) *GroupCount {
		if m[key] == nil {
			m[key] = &GroupCount{Key: key}
		}
		return m[key]
	}
	compl := map[bool]map[incident.DeadlineKind]*ComplianceCount{true: {}, false: {}}
	monthCompl := make([]map[incident.DeadlineKind]*ComplianceCount, len(months))
	for i := range monthCompl {
		monthCompl[i] = map[incident.DeadlineKind]*ComplianceCount{}
	}
	openStage := map[[2]string]int64{}
	openSig := map[string]int64{}
	d.Breaches.ByBucket = make([]BreachCount, len(d.Buckets))
	// Today's unmet deadlines: those due before now are missed already.
	left := map[incident.DeadlineKind]int64{}
	for k, n := range missedToday {
		left[k] = n
	}
	keys := make([]Key, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKey) // deterministic, whatever the map order
	for _, k := range keys {
		c := cells[k]
		inCur, inPrev := cur.Contains(c.Day), prev.Contains(c.Day)
		switch c.Series {
		case SeriesNew:
			if inCur {
				d.Totals.New += c.N
				if b := bucketOf(c.Day); b >= 0 {
					series(byCat, c.K1)[b] += c.N
					series(bySev, c.K2)[b] += c.N
				}
			} else if inPrev {
				d.Totals.NewPrevious += c.N
				catPrev[c.K1] += c.N
				sevPrev[c.K2] += c.N
				series(byCat, c.K1)
				series(bySev, c.K2)
			}
		case SeriesNewSignificant:
			if inCur {
				d.Totals.Significant += c.N
			} else if inPrev {
				d.Totals.SignificantPrevious += c.N
			}
		case SeriesBreach:
			bc := BreachCount{Breaches: c.N, People: c.Total}
			if c.K1 == "known" {
				bc.Known = c.N
			}
			if inCur {
				d.Breaches.Current.add(bc)
				if b := bucketOf(c.Day); b >= 0 {
					d.Breaches.ByBucket[b].add(bc)
				}
			} else if inPrev {
				d.Breaches.Previous.add(bc)
			}
		case SeriesNewRegion, SeriesNewSector:
			m := regions
			if c.Series == SeriesNewSector {
				m = sectors
			}
			if inCur {
				group(m, c.K1).New += c.N
			} else if inPrev {
				group(m, c.K1).NewPrevious += c.N
			}
		case SeriesAcknowledge, SeriesContain, SeriesClose, SeriesStage:
			metric, bucket := string(c.Series), c.K1
			if c.Series == SeriesStage {
				metric, bucket = "stage:"+c.K1, c.K2
			}
			b, err := strconv.Atoi(bucket)
			if err != nil {
				continue
			}
			if inCur {
				hist(metric).cur.Add(b, c.N)
				if bi := bucketOf(c.Day); bi >= 0 && trend[metric] != nil {
					trend[metric][bi].Add(b, c.N)
				}
			} else if inPrev {
				hist(metric).prev.Add(b, c.N)
			}
		case SeriesDeadline:
			if !inCur && !inPrev {
				continue
			}
			kind := incident.DeadlineKind(c.K1)
			var n ComplianceCount
			switch {
			case c.K2 == DeadlineMet:
				n.OnTime = c.N
			case c.K2 == DeadlineMetLate:
				n.Late = c.N
			case c.Day.Before(today):
				n.Missed = c.N
			case c.Day.After(today):
				n.Open = c.N
			default:
				n.Missed = min(left[kind], c.N)
				left[kind] -= n.Missed
				n.Open = c.N - n.Missed
			}
			addCompliance(compl[inCur], kind, n)
			if inCur {
				if m := monthOf(c.Day); m >= 0 {
					addCompliance(monthCompl[m], kind, n)
				}
			}
		case SeriesOpen:
			d.Totals.Open += c.N
			openStage[[2]string{c.K1, c.K2}] += c.N
		case SeriesOpenSignificant:
			d.Totals.OpenSignificant += c.N
			openSig[c.K1] += c.N
		case SeriesOpenUnacknowledged:
			d.Totals.OpenUnacknowledged += c.N
		case SeriesOpenRegion:
			group(regions, c.K1).Open += c.N
		case SeriesOpenSector:
			group(sectors, c.K1).Open += c.N
		}
	}
	for _, m := range ResponseMetrics {
		h := hist(m)
		d.ResponseTimes = append(d.ResponseTimes, ResponseTime{Metric: m, Current: summarize(h.cur), Previous: summarize(h.prev)})
	}
	d.ResponseTrend = map[string][]Summary{}
	for m, hs := range trend {
		for _, h := range hs {
			d.ResponseTrend[m] = append(d.ResponseTrend[m], summarize(h))
		}
	}
	d.Compliance.Current = complianceList(compl[true])
	d.Compliance.Previous = complianceList(compl[false])
	for i, b := range months {
		d.Compliance.Months = append(d.Compliance.Months, ComplianceMonth{Bucket: b, Kinds: complianceList(monthCompl[i])})
	}
	d.NewByCategory = timeSeries(byCat, catPrev, nil)
	d.SeverityMix = timeSeries(bySev, sevPrev, severityOrder)
	d.OpenByStage = Matrix{Rows: stageNames(), Columns: severityNames()}
	for _, st := range d.OpenByStage.Rows {
		row := make([]int64, len(d.OpenByStage.Columns))
		for j, sev := range d.OpenByStage.Columns {
			row[j] = openStage[[2]string{st, sev}]
		}
		d.OpenByStage.Values = append(d.OpenByStage.Values, row)
	}
	for _, sev := range severityNames() {
		d.OpenSignificant = append(d.OpenSignificant, Count{Key: sev, N: openSig[sev]})
	}
	d.BySector = groupList(sectors)
	d.ByRegion = groupList(regions)
}

func (b *BreachCount) add(o BreachCount) {
	b.Breaches += o.Breaches
	b.Known += o.Known
	b.People += o.People
}

func addCompliance(m map[incident.DeadlineKind]*ComplianceCount, kind incident.DeadlineKind, n ComplianceCount) {
	c := m[kind]
	if c == nil {
		c = &ComplianceCount{Kind: kind}
		m[kind] = c
	}
	c.OnTime += n.OnTime
	c.Late += n.Late
	c.Missed += n.Missed
	c.Open += n.Open
}

// complianceList lists every kind, in order, with zeros where none fell due.
func complianceList(m map[incident.DeadlineKind]*ComplianceCount) []ComplianceCount {
	out := make([]ComplianceCount, 0, len(incident.DeadlineKinds))
	for _, k := range incident.DeadlineKinds {
		c := ComplianceCount{Kind: k}
		if m[k] != nil {
			c = *m[k]
		}
		out = append(out, c)
	}
	return out
}

func summarize(h Histogram) Summary {
	s := Summary{Count: h.Count()}
	s.Median, _ = h.Quantile(0.5)
	s.P90, _ = h.Quantile(0.9)
	return s
}

var severityOrder = func() map[string]int {
	m := map[string]int{}
	for i, s := range incident.Severities {
		m[string(s)] = i
	}
	return m
}()

func severityNames() []string {
	out := make([]string, len(incident.Severities))
	for i, s := range incident.Severities {
		out[i] = string(s)
	}
	return out
}

func stageNames() []string {
	out := make([]string, len(incident.Stages))
	for i, s := range incident.Stages {
		out[i] = string(s)
	}
	return out
}

// timeSeries orders the keys (by order when given, else by the current
// period's total, largest first, then by name) and lays the counts out.
func timeSeries(m map[string][]int64, prev map[string]int64, order map[string]int) TimeSeries {
	var ts TimeSeries
	totals := map[string]int64{}
	for k, vs := range m {
		ts.Keys = append(ts.Keys, k)
		for _, v := range vs {
			totals[k] += v
		}
	}
	sort.Slice(ts.Keys, func(i, j int) bool {
		a, b := ts.Keys[i], ts.Keys[j]
		if order != nil {
			return order[a] < order[b]
		}
		if totals[a] != totals[b] {
			return totals[a] > totals[b]
		}
		return a < b
	})
	for _, k := range ts.Keys {
		ts.Values = append(ts.Values, m[k])
		ts.Previous = append(ts.Previous, prev[k])
	}
	return ts
}

// groupList orders groups by open and new counts, largest first.
func groupList(m map[string]*GroupCount) []GroupCount {
	out := make([]GroupCount, 0, len(m))
	for _, g := range m {
		if g.New != 0 || g.NewPrevious != 0 || g.Open != 0 {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.New+a.Open != b.New+b.Open {
			return a.New+a.Open > b.New+b.Open
		}
		return a.Key < b.Key
	})
	return out
}

// label names regions and sectors, and builds the escalation matrix.
func (d *Dashboard) label(ctx context.Context, r Reader, escs []EscalationFact) error {
	var ids []uuid.UUID
	for _, g := range d.ByRegion {
		if id, err := uuid.Parse(g.Key); err == nil {
			ids = append(ids, id)
		}
	}
	for _, e := range escs {
		ids = append(ids, e.FromOrgID, e.ToOrgID)
	}
	orgs, err := r.Orgs(ctx, uniqueIDs(ids))
	if err != nil {
		return err
	}
	for i := range d.ByRegion {
		g := &d.ByRegion[i]
		if id, err := uuid.Parse(g.Key); err == nil {
			g.Label, g.Slug = orgs[id].Name, orgs[id].Slug
		}
		if g.Label == "" {
			g.Label = "outside " + d.Viewer.Name + "'s constituency"
		}
	}
	for i := range d.BySector {
		g := &d.BySector[i]
		g.Label = g.Key
		if g.Label == "" {
			g.Label = "no sector given"
		}
	}
	d.Escalations = escalationMatrix(escs, orgs)
	return nil
}

func escalationMatrix(escs []EscalationFact, orgs map[uuid.UUID]OrgLabel) []EscalationCell {
	type pair struct{ from, to uuid.UUID }
	cells := map[pair]*EscalationCell{}
	decide := map[pair][]time.Duration{}
	var order []pair
	for _, e := range escs {
		k := pair{e.FromOrgID, e.ToOrgID}
		c := cells[k]
		if c == nil {
			c = &EscalationCell{From: orgs[e.FromOrgID], To: orgs[e.ToOrgID]}
			cells[k] = c
			order = append(order, k)
		}
		c.Requested++
		switch e.State {
		case "accepted":
			c.Accepted++
		case "declined":
			c.Declined++
		case "returned":
			c.Returned++
		case "cancelled":
			c.Cancelled++
		default:
			c.Undecided++
		}
		if e.DecidedAt != nil && (e.State == "accepted" || e.State == "declined" || e.State == "returned") {
			decide[k] = append(decide[k], e.DecidedAt.Sub(e.RequestedAt))
		}
	}
	out := make([]EscalationCell, 0, len(order))
	for _, k := range order {
		c := cells[k]
		c.Decide = exactSummary(decide[k])
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From.Slug != out[j].From.Slug {
			return out[i].From.Slug < out[j].From.Slug
		}
		return out[i].To.Slug < out[j].To.Slug
	})
	return out
}

// exactSummary is the nearest-rank median and p90 of durations.
func exactSummary(ds []time.Duration) Summary {
	s := Summary{Count: int64(len(ds))}
	if len(ds) == 0 {
		return s
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(float64(len(ds))*q)) - 1
		return ds[max(0, min(i, len(ds)-1))].Round(time.Second)
	}
	s.Median, s.P90 = rank(0.5), rank(0.9)
	return s
}

// Cells returns p's cells on the calendar days [from, to) and now (days in
// p's organisation's time zone), summed per key: its organisation's roll-up
// rows and the cells of the incidents it sees beyond them. Every figure of
// the dashboard is computed from exactly these.
func (s *Service) Cells(ctx context.Context, p access.Principal, from, to time.Time) (map[Key]Cell, error) {
	if err := viewerOf(p); err != nil {
		return nil, err
	}
	var out map[Key]Cell
	err := s.store.InStatsSnapshot(ctx, func(ctx context.Context, r Reader) error {
		v, err := r.ViewerOrg(ctx, p.OrgID)
		if err != nil {
			return err
		}
		out, _, err = viewerCells(ctx, r, p, zoneOf(v.TimeZone), from, to)
		return err
	})
	return out, err
}

// zoneOf loads a time zone, UTC when unknown.
func zoneOf(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Viewer returns p's organisation and its time zone, in which p's days,
// weeks and months (and times in reports) are given.
func (s *Service) Viewer(ctx context.Context, p access.Principal) (OrgLabel, *time.Location, error) {
	if err := viewerOf(p); err != nil {
		return OrgLabel{}, nil, err
	}
	var v OrgLabel
	err := s.store.InStatsSnapshot(ctx, func(ctx context.Context, r Reader) error {
		var err error
		v, err = r.ViewerOrg(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return v, nil, err
	}
	return v, zoneOf(v.TimeZone), nil
}

// Orgs returns organisations by ID, to name them (the reporting and the
// coordinating organisation of an incident in its report).
func (s *Service) Orgs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]OrgLabel, error) {
	var out map[uuid.UUID]OrgLabel
	err := s.store.InStatsSnapshot(ctx, func(ctx context.Context, r Reader) error {
		var err error
		out, err = r.Orgs(ctx, uniqueIDs(ids))
		return err
	})
	return out, err
}
