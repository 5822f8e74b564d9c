package incident

import (
	"context"
	"fmt"
	"slices"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/google/uuid"
)

// Handler reacts to timeline events inside the transaction that appended
// them, so that what it does (queue a notification, start a playbook run,
// schedule a timer, resume a wait) commits exactly when the change it
// reacts to commits, and never without it.
type Handler struct {
	// Name identifies the handler in errors.
	Name string
	// Kinds are the event kinds it wants; empty means every kind.
	Kinds []EventKind
	// Match, when set, narrows Kinds by the event's data: only the events
	// it accepts are handed over, and an incident none of whose events a
	// handler wants is not even read for it (the intake path stays cheap).
	Match func(ev Event) bool
	// Handle gets the incident (read for the system, locked by the
	// transaction, or the new incident the use case held: Tx.Hold) and
	// its new events of the wanted kinds, in order.
	Handle func(ctx context.Context, tx Tx, inc *Incident, evs []Event) error
}

// Bus hands every timeline event appended in a transaction to the handlers
// that want it, before the transaction commits. The store calls Dispatch;
// services Subscribe when the application is wired, before any request.
type Bus struct {
	handlers []Handler
}

// Subscribe adds a handler. It is not safe to call once events flow.
func (b *Bus) Subscribe(h Handler) {
	b.handlers = append(b.handlers, h)
}

// Dispatch hands evs to the handlers. Events a handler appends are
// dispatched by the store in a further round.
func (b *Bus) Dispatch(ctx context.Context, tx Tx, evs []Event) error {
	if b == nil || len(b.handlers) == 0 || len(evs) == 0 {
		return nil
	}
	var order []uuid.UUID
	byIncident := map[uuid.UUID][]Event{}
	for _, ev := range evs {
		if _, ok := byIncident[ev.IncidentID]; !ok {
			order = append(order, ev.IncidentID)
		}
		byIncident[ev.IncidentID] = append(byIncident[ev.IncidentID], ev)
	}
	for _, id := range order {
		// A new incident the use case handed over (Tx.Hold) is not read
		// back: it is exactly what the transaction wrote.
		inc := tx.Held(id)
		for _, h := range b.handlers {
			wanted := byIncident[id]
			if len(h.Kinds) > 0 || h.Match != nil {
				wanted = slices.DeleteFunc(slices.Clone(wanted), func(ev Event) bool {
					return (len(h.Kinds) > 0 && !slices.Contains(h.Kinds, ev.Kind)) || (h.Match != nil && !h.Match(ev))
				})
			}
			if len(wanted) == 0 {
				continue
			}
			if inc == nil {
				var err error
				if inc, err = tx.LockIncident(ctx, access.System, id.String()); err != nil {
					return fmt.Errorf("%s: %w", h.Name, err)
				}
			}
			if err := h.Handle(ctx, tx, inc, wanted); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
	}
	return nil
}
