package linking

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Merge merges the duplicate ref into the survivor survivorRef, in one
// transaction (a crash leaves the merge whole or not begun):
//
//   - the duplicate's observables the survivor lacks are copied onto it
//     (with the stricter of their effective label and the survivor's);
//   - the duplicate's comments, tasks, evidence and timeline stay where
//     they are, and are reached through the duplicate_of link the merge
//     makes (unless one exists): moving them would widen their audience
//     to the survivor's, which the duplicate's reporter never chose;
//   - the duplicate closes with the resolution "merged into INC-…";
//   - both get a timeline event, and the merge is audited.
//
// p must see both and hold access.MergeIncident on both. A closed
// duplicate, a survivor that is itself merged, or a duplicate that others
// were merged into is apperr.Conflict.
func (s *Service) Merge(ctx context.Context, p access.Principal, ref, survivorRef string) (*Merge, error) {
	now := s.now()
	var m *Merge
	err := s.o.Store.InLinkTx(ctx, func(ctx context.Context, tx Tx) error {
		dup, surv, err := lockBoth(ctx, tx, p, access.MergeIncident, ref, survivorRef, s)
		if err != nil {
			return err
		}
		if dup.Status == incident.Closed {
			return apperr.New(apperr.Conflict, "%s is closed: reopen it before merging it", dup.Reference)
		}
		if surv.Status == incident.Closed {
			return apperr.New(apperr.Conflict, "%s is closed: a duplicate is merged into an open incident", surv.Reference)
		}
		if _, merged, err := tx.MergedInto(ctx, surv.ID); err != nil {
			return err
		} else if merged {
			return apperr.New(apperr.Conflict, "%s was merged into another incident", surv.Reference)
		}
		if survivorOf, _, err := tx.MergedInto(ctx, dup.ID); err != nil {
			return err
		} else if survivorOf {
			return apperr.New(apperr.Conflict, "other incidents were merged into %s: merge %s into it instead", dup.Reference, surv.Reference)
		}
		m = &Merge{ID: uuid.New(), DuplicateID: dup.ID, SurvivorID: surv.ID, MergedBy: p.UserIDPtr(), MergedAt: now,
			PreviousResolution: dup.Resolution}
		if m.CopiedObservables, err = tx.CopyObservables(ctx, dup.ID, surv.ID, p.UserIDPtr(), now); err != nil {
			return err
		}
		l := &Link{ID: uuid.New(), FromID: dup.ID, ToID: surv.ID, Kind: DuplicateOf, CreatedBy: p.Name(), CreatedAt: now}
		created, err := tx.InsertLink(ctx, l)
		if err != nil {
			return err
		}
		if created {
			m.LinkID = &l.ID
		}
		if err := tx.InsertMerge(ctx, m); err != nil {
			return err
		}
		resolution := "merged into " + surv.Reference
		dup.Status, dup.ClosedAt, dup.Resolution, dup.UpdatedAt = incident.Closed, &now, resolution, now
		if err := tx.UpdateIncident(ctx, dup); err != nil {
			return err
		}
		evs := []incident.Event{
			{IncidentID: dup.ID, Kind: incident.EventClosed, Data: incident.MustJSON(map[string]any{"resolution": resolution, "stage": dup.Stage})},
			{IncidentID: dup.ID, Kind: EventMergedInto, Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "survivor": surv.Reference})},
			{IncidentID: surv.ID, Kind: EventMergedFrom, Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "observables": len(m.CopiedObservables)})},
		}
		if created {
			evs = append(evs,
				incident.Event{IncidentID: dup.ID, Kind: EventLinked, Data: incident.MustJSON(map[string]any{"link_id": l.ID, "kind": DuplicateOf, "direction": Outgoing})},
				incident.Event{IncidentID: surv.ID, Kind: EventLinked, Data: incident.MustJSON(map[string]any{"link_id": l.ID, "kind": DuplicateOf, "direction": Incoming})})
		}
		for i := range evs {
			evs[i].ActorUserID, evs[i].Actor, evs[i].OccurredAt = p.UserIDPtr(), p.Name(), now
			if err := tx.AppendEvent(ctx, &evs[i]); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: AuditMerged, TargetType: "incident",
			TargetID: dup.Reference, RemoteAddr: p.RemoteAddr,
			Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "survivor": surv.Reference, "observables": len(m.CopiedObservables)})})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UndoMerge undoes the merge in force of the duplicate ref, within
// UndoWindow of it, in one transaction: the observables the merge copied
// leave the survivor (also when they were changed since), the link the
// merge made goes, and the duplicate opens again with its earlier
// resolution. p must see both incidents and hold access.MergeIncident on
// both. No merge in force is apperr.Conflict; a merge older than a day is
// apperr.Conflict.
func (s *Service) UndoMerge(ctx context.Context, p access.Principal, ref string) error {
	dup, err := s.mayWrite(ctx, p, access.MergeIncident, ref)
	if err != nil {
		return err
	}
	ms, err := s.o.Store.MergeInForce(ctx, p, dup.ID)
	if err != nil {
		return err
	}
	if ms == nil {
		return apperr.New(apperr.Conflict, "%s is not merged into another incident", dup.Reference)
	}
	now := s.now()
	return s.o.Store.InLinkTx(ctx, func(ctx context.Context, tx Tx) error {
		dup, surv, err := lockBoth(ctx, tx, p, access.MergeIncident, dup.ID.String(), ms.SurvivorID.String(), s)
		if err != nil {
			return err
		}
		m, err := tx.LockMergeInForce(ctx, dup.ID)
		if err != nil {
			return err
		}
		if now.Sub(m.MergedAt) > UndoWindow {
			return apperr.New(apperr.Conflict, "the merge of %s into %s is more than a day old: it can no longer be undone", dup.Reference, surv.Reference)
		}
		removed, err := tx.DeleteObservables(ctx, surv.ID, m.CopiedObservables)
		if err != nil {
			return err
		}
		if m.LinkID != nil {
			if _, err := tx.DeleteLink(ctx, dup.ID, *m.LinkID); err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
		}
		if err := tx.MarkMergeUndone(ctx, m.ID, p.UserIDPtr(), now); err != nil {
			return err
		}
		closedAt := dup.ClosedAt
		if dup.Status == incident.Closed {
			dup.Status, dup.ClosedAt, dup.Resolution, dup.UpdatedAt = incident.Open, nil, m.PreviousResolution, now
			if err := tx.UpdateIncident(ctx, dup); err != nil {
				return err
			}
		}
		evs := []incident.Event{
			{IncidentID: dup.ID, Kind: incident.EventReopened, Data: incident.MustJSON(map[string]any{"reason": "merge undone", "closed_at": closedAt})},
			{IncidentID: dup.ID, Kind: EventMergeUndone, Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "observables": removed})},
			{IncidentID: surv.ID, Kind: EventMergeUndone, Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "observables": removed})},
		}
		if closedAt == nil {
			evs = evs[1:]
		}
		for i := range evs {
			evs[i].ActorUserID, evs[i].Actor, evs[i].OccurredAt = p.UserIDPtr(), p.Name(), now
			if err := tx.AppendEvent(ctx, &evs[i]); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: AuditMergeUndone, TargetType: "incident",
			TargetID: dup.Reference, RemoteAddr: p.RemoteAddr,
			Data: incident.MustJSON(map[string]any{"merge_id": m.ID, "survivor": surv.Reference, "observables": removed})})
	})
}

// MergeStatusOf returns the merge in force of an incident p has read (it
// is the duplicate) with what p may see of its survivor; nil when it is
// not merged.
func (s *Service) MergeStatusOf(ctx context.Context, p access.Principal, inc *incident.Incident) (*MergeStatus, error) {
	ms, err := s.o.Store.MergeInForce(ctx, p, inc.ID)
	if err != nil || ms == nil {
		return ms, err
	}
	ms.UndoUntil = ms.MergedAt.Add(UndoWindow)
	return ms, nil
}
