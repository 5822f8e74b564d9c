package incident

import (
	"context"
	"encoding/json"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/google/uuid"
)

// The timeline event kinds of an incident's circle growing smaller
// (docs/security.md, "When the TLP tightens or a share ends").
const (
	EventShareEnded         EventKind = "share_ended"
	EventParticipantRemoved EventKind = "participant_removed"
)

// Actor is who a change is recorded under: a user (UserID set), or
// certdesk itself under a name that says why.
type Actor struct {
	UserID     *uuid.UUID
	Name       string
	RemoteAddr string
}

// ActorOf is the actor of what p does.
func ActorOf(p access.Principal) Actor {
	return Actor{UserID: p.UserIDPtr(), Name: p.Name(), RemoteAddr: p.RemoteAddr}
}

// ActorOfEvent is the actor of the change ev records: what follows from a
// change (a share that ends because the TLP was raised) is recorded under
// whoever made it.
func ActorOfEvent(ev Event) Actor {
	return Actor{UserID: ev.ActorUserID, Name: ev.Actor}
}

// Share is an organisation an incident was shared with (kind "share") or
// escalated to (kind "escalation").
type Share struct {
	OrgID   uuid.UUID
	OrgSlug string
	OrgName string
	Kind    string
	// StrictCircle marks an organisation that joined the circle of a
	// TLP:AMBER+STRICT incident (a confirmed escalation).
	StrictCircle bool
}

// Participant is a user named as a participant of an incident, with the
// organisation the user belongs to.
type Participant struct {
	UserID  uuid.UUID
	Email   string
	OrgID   uuid.UUID
	OrgSlug string
}

// EndShare ends an incident's share with an organisation that no longer
// sees the incident, in tx: the share row goes, with a share_ended
// timeline event and an audit entry saying why. A share that ended does
// not come back when the TLP is lowered again.
func (s *Service) EndShare(ctx context.Context, tx Tx, by Actor, inc *Incident, sh Share, reason string) error {
	if err := tx.DeleteShare(ctx, inc.ID, sh.OrgID); err != nil {
		return err
	}
	data := map[string]any{"org": sh.OrgSlug, "org_name": sh.OrgName, "kind": sh.Kind, "reason": reason}
	return s.recordCircle(ctx, tx, by, inc, EventShareEnded, audit.ShareEnded, data)
}

// RemoveParticipant removes a named participant of an organisation outside
// the incident's circle, in tx, with a participant_removed timeline event
// and an audit entry; a participant who is also the assignee is no longer
// assigned (an assigned event, through the incident's change path).
func (s *Service) RemoveParticipant(ctx context.Context, tx Tx, by Actor, inc *Incident, pt Participant, reason string) error {
	if err := tx.DeleteParticipant(ctx, inc.ID, pt.UserID); err != nil {
		return err
	}
	data := map[string]any{"user": pt.Email, "org": pt.OrgSlug, "reason": reason}
	if err := s.recordCircle(ctx, tx, by, inc, EventParticipantRemoved, audit.ParticipantRemoved, data); err != nil {
		return err
	}
	if inc.AssigneeID == nil || *inc.AssigneeID != pt.UserID {
		return nil
	}
	none := ""
	changed, err := s.UpdateInTx(ctx, tx, access.System, by.Name, inc.ID.String(), Patch{Assignee: &none})
	if err != nil {
		return err
	}
	*inc = *changed
	return nil
}

// recordCircle appends the event of a change of the circle and audits it.
func (s *Service) recordCircle(ctx context.Context, tx Tx, by Actor, inc *Incident, kind EventKind, action audit.Action, data map[string]any) error {
	b := mustJSON(data)
	if err := tx.AppendEvent(ctx, &Event{IncidentID: inc.ID, ActorUserID: by.UserID, Actor: by.Name, Kind: kind,
		Data: b, OccurredAt: s.clock()}); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Entry{ActorUserID: by.UserID, Actor: by.Name, Action: action, TargetType: "incident",
		TargetID: inc.Reference, RemoteAddr: by.RemoteAddr, Data: json.RawMessage(b)})
}
