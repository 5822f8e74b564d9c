package stats

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Source is what an incident's facts are computed from: the incident row
// (with its deadlines met and its reporting organisation's time zone), the
// reporting organisation's chain in the tree and its sector, and the
// timeline events that move it between stages.
type Source struct {
	Incident *incident.Incident
	// Chain is the reporting organisation and its ancestors, nearest first.
	Chain []ChainOrg
	// Sector is the reporting organisation's NIS2 sector ("" when unset).
	Sector string
	// StageEvents are the incident's created, stage_changed, closed and
	// reopened events in timeline order.
	StageEvents []incident.Event
}

// ChainOrg is one organisation of a chain.
type ChainOrg struct {
	ID   uuid.UUID
	Kind org.Kind
}

// StageEventKinds are the event kinds Source.StageEvents holds.
var StageEventKinds = []incident.EventKind{incident.EventCreated, incident.EventStageChanged, incident.EventClosed, incident.EventReopened}

// Facts are what the metrics know of one incident: the dimensions it is
// counted under and the times it is measured by. They are stored per
// incident (the roll-ups were computed from them) and recomputed on every
// change; a change of facts moves the incident's cells in the roll-ups.
type Facts struct {
	IncidentID        uuid.UUID
	ReportingOrgID    uuid.UUID
	CoordinatingOrgID *uuid.UUID
	TLP               incident.TLP
	// Audience are the organisations that see the incident as a whole
	// (Audience), sorted; the roll-up rows of exactly these hold its cells.
	Audience []uuid.UUID
	// Chain are the reporting organisation and its ancestors, nearest first.
	Chain              []uuid.UUID
	Sector             string
	Open               bool
	Stage              incident.Stage
	Severity           incident.Severity
	Category           string
	Significant        bool
	PersonalDataBreach bool
	AffectedPeople     *int64
	ReportedAt         time.Time
	AcknowledgedAt     *time.Time
	// ContainedAt is the first move into recovery of an incident reported
	// in an earlier stage.
	ContainedAt *time.Time
	ClosedAt    *time.Time
	// StageSeconds is the time spent in each stage (by Stage.Index) while
	// open; final once the incident is closed.
	StageSeconds [4]int64
	Deadlines    []FactDeadline
}

// FactDeadline is one legal deadline of an incident.
type FactDeadline struct {
	Kind  incident.DeadlineKind
	DueAt time.Time
	MetAt *time.Time
}

// Equal reports whether two facts would put the incident in the same
// cells of the same organisations.
func (f *Facts) Equal(g *Facts) bool {
	a, _ := json.Marshal(f)
	b, _ := json.Marshal(g)
	return string(a) == string(b)
}

// Audience returns the organisations that see an incident as a whole —
// the organisation branches of the visibility rule (docs/security.md),
// without named participants, shares and escalations:
//
//   - TLP:RED: none (only named participants see it);
//   - TLP:AMBER+STRICT: the reporting and the coordinating organisation;
//   - TLP:AMBER, GREEN, CLEAR: those, and every CERT whose constituency
//     holds the reporting organisation (the CERTs of its chain).
//
// For a CERT viewer O the rule's organisation branches hold exactly when
// O is in the audience; for any other organisation, when it reports or
// coordinates, which is the same test (docs/metrics.md, "Visibility").
func Audience(tlp incident.TLP, reporting uuid.UUID, coordinating *uuid.UUID, chain []ChainOrg) []uuid.UUID {
	if tlp == incident.TLPRed || !tlp.Valid() {
		return nil
	}
	set := []uuid.UUID{reporting}
	if coordinating != nil {
		set = append(set, *coordinating)
	}
	if tlp != incident.TLPAmberStrict {
		for _, o := range chain {
			if o.Kind.IsCERT() {
				set = append(set, o.ID)
			}
		}
	}
	slices.SortFunc(set, func(a, b uuid.UUID) int { return compareUUID(a, b) })
	return slices.Compact(set)
}

func compareUUID(a, b uuid.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ComputeFacts computes an incident's facts from its source.
func ComputeFacts(src Source) Facts {
	inc := src.Incident
	f := Facts{
		IncidentID: inc.ID, ReportingOrgID: inc.ReportingOrgID, CoordinatingOrgID: inc.CoordinatingOrgID, TLP: inc.TLP,
		Audience: Audience(inc.TLP, inc.ReportingOrgID, inc.CoordinatingOrgID, src.Chain),
		Sector:   src.Sector, Open: inc.Status == incident.Open, Stage: inc.Stage, Severity: inc.Severity,
		Category: inc.Category, Significant: inc.Significant, PersonalDataBreach: inc.PersonalDataBreach,
		AffectedPeople: inc.AffectedPeople, ReportedAt: inc.ReportedAt.UTC(), AcknowledgedAt: utc(inc.AcknowledgedAt),
	}
	for _, o := range src.Chain {
		f.Chain = append(f.Chain, o.ID)
	}
	if !f.Open {
		f.ClosedAt = utc(inc.ClosedAt)
	}
	f.StageSeconds, f.ContainedAt = stageTimes(inc, src.StageEvents)
	loc, err := time.LoadLocation(inc.ReportingOrgTimeZone)
	if err != nil {
		loc = time.UTC
	}
	for _, d := range inc.Deadlines(loc, inc.ReportedAt) {
		fd := FactDeadline{Kind: d.Kind, DueAt: d.DueAt.UTC()}
		if d.Met != nil {
			at := d.Met.At.UTC()
			fd.MetAt = &at
		}
		f.Deadlines = append(f.Deadlines, fd)
	}
	return f
}

// stageTimes walks the stage events: the time spent in each stage while
// open, and when the incident first moved into recovery (nil when it never
// did, or was reported in recovery: it was contained before certdesk knew
// of it). An incident without events (imported, or seeded in bulk) spent
// its whole life in its current stage.
func stageTimes(inc *incident.Incident, evs []incident.Event) ([4]int64, *time.Time) {
	var secs [4]int64
	cur := inc.Stage
	if len(evs) > 0 {
		var d struct{ Stage, From incident.Stage }
		_ = json.Unmarshal(evs[0].Data, &d)
		switch {
		case evs[0].Kind == incident.EventCreated && d.Stage.Valid():
			cur = d.Stage
		case evs[0].Kind == incident.EventStageChanged && d.From.Valid():
			cur = d.From
		}
	}
	reportedIn := cur
	at, open := inc.ReportedAt, true
	var contained *time.Time
	add := func(until time.Time) {
		if i := cur.Index(); i >= 0 && until.After(at) {
			secs[i] += int64(until.Sub(at) / time.Second)
		}
	}
	for _, ev := range evs {
		switch ev.Kind {
		case incident.EventStageChanged:
			var d struct{ To incident.Stage }
			if json.Unmarshal(ev.Data, &d) != nil || !d.To.Valid() {
				continue
			}
			if open {
				add(ev.OccurredAt)
			}
			cur, at = d.To, ev.OccurredAt
			if d.To == incident.Recovery && contained == nil && reportedIn != incident.Recovery {
				t := ev.OccurredAt.UTC()
				contained = &t
			}
		case incident.EventClosed:
			if open {
				add(ev.OccurredAt)
				open = false
			}
		case incident.EventReopened:
			if !open {
				open, at = true, ev.OccurredAt
			}
		}
	}
	if open && inc.Status == incident.Closed && inc.ClosedAt != nil {
		add(*inc.ClosedAt) // closed without a closed event: a bulk import
	}
	return secs, contained
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
