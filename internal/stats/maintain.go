package stats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Tx is what keeping the roll-ups needs inside a transaction: the incident
// transaction (the change itself) and the stats rows.
type Tx interface {
	incident.Tx
	// LockIncidentsForStats locks the incidents that exist among ids
	// (FOR UPDATE) and returns them.
	LockIncidentsForStats(ctx context.Context, ids []uuid.UUID) ([]uuid.UUID, error)
	// StatsSources reads, as the system, what the facts of the incidents
	// are computed from, and their stored facts (nil when none).
	StatsSources(ctx context.Context, ids []uuid.UUID) ([]SourceAndFacts, error)
	// SaveFacts stores facts, replacing those stored; it waits while an
	// organisation's roll-up is rebuilt (RebuildOrg).
	SaveFacts(ctx context.Context, fs []*Facts) error
	// OrgZones returns the time zones of organisations (UTC for an
	// unknown or invalid one).
	OrgZones(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*time.Location, error)
	// AddDeltas appends changes to the roll-ups.
	AddDeltas(ctx context.Context, ds []Delta) error
	// IncidentsReportedBy returns the incidents reported by any of orgs.
	IncidentsReportedBy(ctx context.Context, orgs []uuid.UUID) ([]uuid.UUID, error)
	// Subtree returns an organisation and every organisation below it.
	Subtree(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error)
	// RebuildOrg replaces every roll-up row of an organisation by the sum
	// of cells computes for each stored facts whose audience holds it,
	// while no facts change.
	RebuildOrg(ctx context.Context, orgID uuid.UUID, cells func(*Facts) []Cell) error
	// IncidentsWithoutFacts returns up to limit incidents after the
	// given ID (in ID order) that have no stored facts, locked, skipping
	// those locked by others.
	IncidentsWithoutFacts(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// BlockFactChanges keeps other transactions from changing facts or
	// compacting until this one ends (a rebuild of an organisation's rows
	// follows).
	BlockFactChanges(ctx context.Context) error
	// Compact folds the appended deltas into the roll-up totals.
	Compact(ctx context.Context) (int64, error)
}

// SourceAndFacts is an incident's source and its stored facts.
type SourceAndFacts struct {
	Source Source
	Stored *Facts // nil: none stored yet
}

// Maintainer keeps the roll-ups: in the transaction of every change of an
// incident (Handler) or of an organisation (OrgChanged), by backfilling
// incidents that have no facts (Backfill), and by folding deltas into the
// totals (Compact).
type Maintainer struct {
	inTx func(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// NewMaintainer returns a Maintainer whose own transactions (Backfill,
// Compact) run through inTx.
func NewMaintainer(inTx func(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error) *Maintainer {
	return &Maintainer{inTx: inTx}
}

// FactKinds are the event kinds after which an incident's facts may have
// changed: every change of a field the metrics count by, of its stage,
// status, acknowledgement, deadlines met, or coordinating organisation.
var FactKinds = []incident.EventKind{incident.EventCreated, incident.EventRouted, incident.EventFieldChanged,
	incident.EventStageChanged, incident.EventClosed, incident.EventReopened, incident.EventAcknowledged,
	incident.EventDeadlineMet, "escalation_accepted", "escalation_returned"}

// Handler is the incident.Bus handler that moves an incident's cells in
// the transaction of the change (subscribe it last: it reads the incident
// as the change left it).
func (m *Maintainer) Handler() incident.Handler {
	return incident.Handler{
		Name:  "stats roll-ups",
		Kinds: FactKinds,
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			stx, ok := tx.(Tx)
			if !ok {
				return fmt.Errorf("stats: %T does not implement stats.Tx", tx)
			}
			ids := []uuid.UUID{inc.ID}
			if slices.ContainsFunc(evs, func(ev incident.Event) bool { return ev.Kind == incident.EventCreated }) {
				// Created in this transaction: no other transaction can
				// see the row, let alone change it, until this one
				// commits, so there is nothing to lock it against.
				_, err := restat(ctx, stx, ids)
				return err
			}
			_, err := Restat(ctx, stx, ids)
			return err
		},
	}
}

// Restat recomputes the facts of the incidents (locked here), stores those
// that changed and moves their cells in the roll-ups. It returns how many
// changed. Facts are saved before the time zones are read, so that a
// rebuild of an organisation's rows after a change of its time zone
// (which blocks SaveFacts) is never followed by cells of the old zone.
func Restat(ctx context.Context, tx Tx, ids []uuid.UUID) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	ids, err := tx.LockIncidentsForStats(ctx, ids)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return restat(ctx, tx, ids)
}

// restat is Restat for incidents this transaction has locked or created.
// The lock is a statement of its own, before the read: a read that waited
// for the lock would see the other transaction's incident but, in its
// subqueries, the stored facts from before it.
func restat(ctx context.Context, tx Tx, ids []uuid.UUID) (int, error) {
	srcs, err := tx.StatsSources(ctx, ids)
	if err != nil {
		return 0, err
	}
	type change struct{ old, new *Facts }
	var changes []change
	var save []*Facts
	for _, s := range srcs {
		f := ComputeFacts(s.Source)
		if s.Stored != nil && s.Stored.Equal(&f) {
			continue
		}
		changes = append(changes, change{s.Stored, &f})
		save = append(save, &f)
	}
	if len(save) == 0 {
		return 0, nil
	}
	if err := tx.SaveFacts(ctx, save); err != nil {
		return 0, err
	}
	var orgs []uuid.UUID
	for _, c := range changes {
		if c.old != nil {
			orgs = append(orgs, c.old.Audience...)
		}
		orgs = append(orgs, c.new.Audience...)
	}
	zones, err := tx.OrgZones(ctx, uniqueIDs(orgs))
	if err != nil {
		return 0, err
	}
	zone := func(id uuid.UUID) *time.Location {
		if z := zones[id]; z != nil {
			return z
		}
		return time.UTC
	}
	var ds []Delta
	for _, c := range changes {
		ds = append(ds, Diff(c.old, c.new, zone)...)
	}
	return len(save), tx.AddDeltas(ctx, mergeDeltas(ds))
}

// mergeDeltas sums deltas of the same row.
func mergeDeltas(ds []Delta) []Delta {
	type k struct {
		org uuid.UUID
		Key
	}
	idx := map[k]int{}
	var out []Delta
	for _, d := range ds {
		key := k{d.OrgID, d.Key()}
		if i, ok := idx[key]; ok {
			out[i].N += d.N
			out[i].Total += d.Total
			continue
		}
		idx[key] = len(out)
		out = append(out, d)
	}
	return slices.DeleteFunc(out, func(d Delta) bool { return d.N == 0 && d.Total == 0 })
}

func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, compareUUID)
	return slices.Compact(out)
}

// OrgChange says what changed of an organisation.
type OrgChange struct {
	OrgID    uuid.UUID
	Moved    bool // its parent changed: the chains of its subtree changed
	Sector   bool // its sector changed
	TimeZone bool // its time zone changed
}

// OrgChanged keeps the roll-ups true in the transaction of a change of an
// organisation: a move recomputes the incidents reported in its subtree
// (their audiences and regions), a new sector those it reported, and a
// new time zone those it reported (the NIS2 final report's calendar
// month) and then rebuilds its own rows, whose days are in that zone.
func (m *Maintainer) OrgChanged(ctx context.Context, tx Tx, c OrgChange) error {
	if !c.Moved && !c.Sector && !c.TimeZone {
		return nil
	}
	if c.TimeZone {
		// First, before any facts of this transaction are written: two
		// changes of time zones at once then queue instead of deadlocking.
		if err := tx.BlockFactChanges(ctx); err != nil {
			return err
		}
	}
	orgs := []uuid.UUID{c.OrgID}
	if c.Moved {
		var err error
		if orgs, err = tx.Subtree(ctx, c.OrgID); err != nil {
			return err
		}
	}
	ids, err := tx.IncidentsReportedBy(ctx, orgs)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, restatBatch) {
		if _, err := Restat(ctx, tx, chunk); err != nil {
			return err
		}
	}
	if c.TimeZone {
		zones, err := tx.OrgZones(ctx, []uuid.UUID{c.OrgID})
		if err != nil {
			return err
		}
		loc := zones[c.OrgID]
		if loc == nil {
			loc = time.UTC
		}
		return tx.RebuildOrg(ctx, c.OrgID, func(f *Facts) []Cell { return Cells(f, c.OrgID, loc) })
	}
	return nil
}

// restatBatch is how many incidents one Restat call handles.
const restatBatch = 1000

// Backfill computes the facts of every incident that has none (incidents
// from before the metrics existed, or written by other means than the
// application), a batch per transaction, and returns how many it did.
func (m *Maintainer) Backfill(ctx context.Context) (int, error) { return m.backfill(ctx, restatBatch) }

func (m *Maintainer) backfill(ctx context.Context, batch int) (int, error) {
	done := 0
	// The batches walk the incidents in ID order, each starting after the
	// last one's end, so that a batch never reads again the incidents the
	// earlier ones gave facts to (from the start each time, the backfill
	// of 1,000,000 incidents slowed to 150 a second).
	var after uuid.UUID
	for {
		var n int
		err := m.inTx(ctx, func(ctx context.Context, tx Tx) error {
			ids, err := tx.IncidentsWithoutFacts(ctx, after, batch)
			if err != nil {
				return err
			}
			if n = len(ids); n > 0 {
				after = ids[n-1]
			}
			_, err = Restat(ctx, tx, ids)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("stats: backfill: %w", err)
		}
		done += n
		if n < batch {
			return done, nil
		}
	}
}

// CompactInterval is how often the deltas are folded into the totals.
const CompactInterval = 10 * time.Second

// CompactJob folds the roll-up deltas into the totals (Maintainer.Compact);
// River's periodic scheduler queues one every CompactInterval.
type CompactJob struct{}

// Kind implements incident.Job.
func (CompactJob) Kind() string { return "stats.compact" }

// Compact folds the deltas appended so far into the roll-up totals and
// returns how many it folded. Readers sum totals and deltas, so the
// figures are the same before and after.
func (m *Maintainer) Compact(ctx context.Context) (int64, error) {
	if m == nil || m.inTx == nil {
		return 0, errors.New("stats: no maintainer")
	}
	var n int64
	err := m.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		n, err = tx.Compact(ctx)
		return err
	})
	return n, err
}
