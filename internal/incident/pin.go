package incident

import (
	"context"
	"strconv"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/google/uuid"
)

// EventPinned is not a kind of event but a selector of Timeline: with it
// among the kinds, the timeline holds the pinned events too, whatever
// their kind (the executive timeline reads its key kinds and the pins in
// one go). Alone, it reads the pinned events.
const EventPinned EventKind = "pinned"

// PinTx is what pinning needs of a transaction.
type PinTx interface {
	// VisibleEvent reads one event of the incident as Timeline would
	// show it to p; apperr.NotFound when there is none or p may not see
	// it (an observable's event under a stricter label).
	VisibleEvent(ctx context.Context, p access.Principal, incidentID uuid.UUID, eventID int64) (*Event, error)
	// SetPin pins the event (pinned) or takes the pin off; changed is
	// false when it already was so.
	SetPin(ctx context.Context, incidentID uuid.UUID, eventID int64, by *uuid.UUID, pinned bool) (changed bool, err error)
}

// Pin pins an event of the incident's timeline as a key event, or takes
// the pin off: the executive timeline and the incident report show the
// pinned events beside the kinds that are always key. It needs the
// incident.pin write and sight of the event; pinning twice changes
// nothing (and audits nothing). It returns the event as the timeline
// shows it.
func (s *Service) Pin(ctx context.Context, p access.Principal, idOrRef string, eventID int64, pinned bool) (*Event, error) {
	var ev *Event
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.PinEvent, inc.Relations); err != nil {
			return err
		}
		if ev, err = tx.VisibleEvent(ctx, p, inc.ID, eventID); err != nil {
			return err
		}
		changed, err := tx.SetPin(ctx, inc.ID, ev.ID, p.UserIDPtr(), pinned)
		if err != nil {
			return err
		}
		ev.Pinned = pinned
		if !changed {
			return nil
		}
		action := audit.EventPinned
		if !pinned {
			action = audit.EventUnpinned
		}
		return tx.Audit(ctx, auditEntry(p, action, inc, map[string]any{"event_id": ev.ID, "kind": ev.Kind}))
	})
	return ev, err
}

// ParseEventID reads a timeline event's identifier from a path.
func ParseEventID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "event %q not found", s)
	}
	return id, nil
}
