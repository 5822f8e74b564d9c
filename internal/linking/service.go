package linking

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Store is the persistence of links and merges. Every read takes the
// principal it reads for and returns only what it may see.
type Store interface {
	// InLinkTx runs fn in one database transaction.
	InLinkTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Links lists the links of the incident whose other incident p sees,
	// newest first.
	Links(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]Link, error)
	// MergeInForce returns the merge in force of the duplicate with the
	// survivor's reference, stage and status (whether or not p sees the
	// survivor: the caller sees the duplicate); nil when there is none.
	MergeInForce(ctx context.Context, p access.Principal, duplicateID uuid.UUID) (*MergeStatus, error)
	// Suggestions lists the open incidents p sees that resemble the
	// incident (suggest.go).
	Suggestions(ctx context.Context, p access.Principal, inc *incident.Incident, q SuggestQuery) ([]Suggestion, error)
	// SuggestionCounts counts, for each of the incidents, the open
	// incidents p sees that resemble it.
	SuggestionCounts(ctx context.Context, p access.Principal, ids []uuid.UUID, q SuggestQuery) (map[uuid.UUID]int, error)
	// Campaigns groups the incidents p sees that share observables.
	Campaigns(ctx context.Context, p access.Principal, limit int) ([]Campaign, error)
}

// Tx is what a link or merge may do inside a transaction.
type Tx interface {
	// LockIncident: see incident.Tx.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// UpdateIncident: see incident.Tx.
	UpdateIncident(ctx context.Context, inc *incident.Incident) error
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
	// Audit writes an audit log entry.
	Audit(ctx context.Context, e audit.Entry) error
	// InsertLink inserts a link; false when the same link exists.
	InsertLink(ctx context.Context, l *Link) (bool, error)
	// DeleteLink removes a link of the incident (either end) and returns
	// it; apperr.NotFound when the incident has no such link.
	DeleteLink(ctx context.Context, incidentID, linkID uuid.UUID) (*Link, error)
	// CopyObservables copies the duplicate's observables that the
	// survivor lacks onto it, each with the stricter of its effective
	// label and the survivor's own, and returns the new IDs.
	CopyObservables(ctx context.Context, duplicateID, survivorID uuid.UUID, by *uuid.UUID, now time.Time) ([]uuid.UUID, error)
	// DeleteObservables removes the survivor's observables of ids (those a
	// merge copied) and returns how many there were.
	DeleteObservables(ctx context.Context, incidentID uuid.UUID, ids []uuid.UUID) (int, error)
	// InsertMerge records a merge; apperr.Conflict when the duplicate is
	// merged already.
	InsertMerge(ctx context.Context, m *Merge) error
	// LockMergeInForce reads the merge in force of the duplicate and
	// locks it; apperr.NotFound when there is none.
	LockMergeInForce(ctx context.Context, duplicateID uuid.UUID) (*Merge, error)
	// MarkMergeUndone records that a merge was undone.
	MarkMergeUndone(ctx context.Context, mergeID uuid.UUID, by *uuid.UUID, at time.Time) error
	// MergedInto reports whether the incident is the survivor of a merge
	// in force or a duplicate merged into another.
	MergedInto(ctx context.Context, incidentID uuid.UUID) (survivorOf, duplicateOf bool, err error)
}

// IncidentReader reads an incident through the visibility rule
// (*incident.Service).
type IncidentReader interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Options are the dependencies of a Service.
type Options struct {
	Store     Store
	Incidents IncidentReader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SuggestWindow is how far back duplicate suggestions look; zero: 14
	// days.
	SuggestWindow time.Duration
}

// Service holds the link, merge, suggestion and campaign use cases.
type Service struct{ o Options }

// NewService returns a Service, or an error naming the missing option.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("linking: Options.Store is required")
	case o.Incidents == nil:
		return nil, errors.New("linking: Options.Incidents is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SuggestWindow == 0 {
		o.SuggestWindow = 14 * 24 * time.Hour
	}
	return &Service{o: o}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// lockBoth locks the two incidents in the order of their IDs (two links
// made at once from opposite ends wait instead of deadlocking) and
// requires the write a on both. Either one invisible to p is
// apperr.NotFound, as for one that does not exist; the same incident twice
// is apperr.Invalid.
func lockBoth(ctx context.Context, tx Tx, p access.Principal, a access.Action, ref, otherRef string, s *Service) (*incident.Incident, *incident.Incident, error) {
	first, err := s.mayWrite(ctx, p, a, ref)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(otherRef) == "" {
		return nil, nil, apperr.Fields{{Field: "incident", Rule: "required", Message: "name the other incident"}}.Err()
	}
	second, err := s.o.Incidents.Get(ctx, p, strings.TrimSpace(otherRef))
	if err != nil {
		return nil, nil, err
	}
	if first.ID == second.ID {
		return nil, nil, apperr.Fields{{Field: "incident", Rule: "other", Message: "an incident cannot be linked to or merged into itself"}}.Err()
	}
	ids := []uuid.UUID{first.ID, second.ID}
	if strings.Compare(ids[1].String(), ids[0].String()) < 0 {
		ids[0], ids[1] = ids[1], ids[0]
	}
	locked := map[uuid.UUID]*incident.Incident{}
	for _, id := range ids {
		inc, err := tx.LockIncident(ctx, p, id.String())
		if err != nil {
			return nil, nil, err
		}
		locked[id] = inc
	}
	a1, a2 := locked[first.ID], locked[second.ID]
	if err := p.RequireWrite(a, a1.Relations); err != nil {
		return nil, nil, err
	}
	if err := p.RequireWrite(a, a2.Relations); err != nil {
		return nil, nil, err
	}
	return a1, a2, nil
}

// mayWrite reads the incident ref for p and requires the write a on it:
// the checks every link and merge begins with, before it looks at what
// the request names.
func (s *Service) mayWrite(ctx context.Context, p access.Principal, a access.Action, ref string) (*incident.Incident, error) {
	inc, err := s.o.Incidents.Get(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(a, inc.Relations); err != nil {
		return nil, err
	}
	return inc, nil
}

// Link links the incident ref to the incident otherRef: ref is related
// to, a duplicate of, or part of otherRef. p must see both and hold
// access.LinkIncident on both; an incident p may not see is
// apperr.NotFound. Linking twice returns the existing link unchanged
// (created=false). Both incidents get an incident_linked event.
func (s *Service) Link(ctx context.Context, p access.Principal, ref, otherRef string, kind Kind) (l *Link, created bool, err error) {
	if !kind.Valid() {
		return nil, false, apperr.Fields{{Field: "kind", Rule: "enum", Message: "kind must be one of: related, duplicate_of, part_of"}}.Err()
	}
	now := s.now()
	err = s.o.Store.InLinkTx(ctx, func(ctx context.Context, tx Tx) error {
		from, to, err := lockBoth(ctx, tx, p, access.LinkIncident, ref, otherRef, s)
		if err != nil {
			return err
		}
		l = &Link{ID: uuid.New(), FromID: from.ID, ToID: to.ID, Kind: kind, Direction: Outgoing, Other: otherOf(to),
			CreatedBy: p.Name(), CreatedAt: now}
		if created, err = tx.InsertLink(ctx, l); err != nil || !created {
			return err
		}
		return s.linkEvents(ctx, tx, p, from, to, EventLinked, AuditLinked, l, now)
	})
	if err != nil {
		return nil, false, err
	}
	if !created {
		ls, err := s.o.Store.Links(ctx, p, l.FromID)
		if err != nil {
			return nil, false, err
		}
		for i := range ls {
			if ls[i].ToID == l.ToID && ls[i].Kind == kind && ls[i].Direction == Outgoing {
				return &ls[i], false, nil
			}
		}
	}
	return l, created, nil
}

// linkEvents appends the events of a link (or its removal) on both
// incidents and audits it once.
func (s *Service) linkEvents(ctx context.Context, tx Tx, p access.Principal, from, to *incident.Incident, kind incident.EventKind,
	action audit.Action, l *Link, now time.Time) error {
	for _, end := range []struct {
		inc *incident.Incident
		dir Direction
	}{{from, Outgoing}, {to, Incoming}} {
		if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: end.inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: kind,
			Data: incident.MustJSON(map[string]any{"link_id": l.ID, "kind": l.Kind, "direction": end.dir}), OccurredAt: now}); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: action, TargetType: "incident",
		TargetID: from.Reference, RemoteAddr: p.RemoteAddr,
		Data: incident.MustJSON(map[string]any{"link_id": l.ID, "kind": l.Kind, "to": to.Reference})})
}

// Unlink removes a link of the incident ref. p must see both incidents
// and hold access.LinkIncident on both; a link whose other incident p may
// not see is apperr.NotFound, as one that does not exist.
func (s *Service) Unlink(ctx context.Context, p access.Principal, ref, linkID string) error {
	inc, err := s.mayWrite(ctx, p, access.LinkIncident, ref)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(linkID)
	if err != nil {
		return linkNotFound(linkID)
	}
	ls, err := s.o.Store.Links(ctx, p, inc.ID)
	if err != nil {
		return err
	}
	var found *Link
	for i := range ls {
		if ls[i].ID == id {
			found = &ls[i]
		}
	}
	if found == nil {
		return linkNotFound(linkID)
	}
	now := s.now()
	return s.o.Store.InLinkTx(ctx, func(ctx context.Context, tx Tx) error {
		a, b, err := lockBoth(ctx, tx, p, access.LinkIncident, inc.ID.String(), found.Other.ID.String(), s)
		if err != nil {
			return err
		}
		l, err := tx.DeleteLink(ctx, a.ID, id)
		if err != nil {
			return err
		}
		from, to := a, b
		if l.FromID != a.ID {
			from, to = b, a
		}
		return s.linkEvents(ctx, tx, p, from, to, EventUnlinked, AuditUnlinked, l, now)
	})
}

// List returns the incident ref and its links whose other incident p sees.
func (s *Service) List(ctx context.Context, p access.Principal, ref string) (*incident.Incident, []Link, error) {
	inc, err := s.o.Incidents.Get(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	ls, err := s.o.Store.Links(ctx, p, inc.ID)
	return inc, ls, err
}

// ListOf returns the links of an incident p has read already.
func (s *Service) ListOf(ctx context.Context, p access.Principal, inc *incident.Incident) ([]Link, error) {
	return s.o.Store.Links(ctx, p, inc.ID)
}

func otherOf(inc *incident.Incident) Other {
	return Other{ID: inc.ID, Reference: inc.Reference, Title: inc.Title, Stage: inc.Stage, Status: inc.Status, TLP: inc.TLP}
}

func linkNotFound(id string) error { return apperr.New(apperr.NotFound, "link %q not found", id) }
