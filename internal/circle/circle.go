// Package circle keeps an incident's circle closed when it grows smaller.
//
// The circle of an incident is who may see it: the organisations the
// visibility rule lets see it as a whole (docs/security.md), and on
// TLP:RED its named participants. When the TLP is raised or a share ends
// (an escalation declined), whatever still reaches outside the new circle
// ends in the same transaction, each with a timeline entry under whoever
// made the change: requested escalations to organisations outside are
// cancelled, their shares end, queued notifications to them are withdrawn,
// and on TLP:AMBER+STRICT the participants of organisations outside are
// removed. The decision is the one visibility rule, for each organisation
// as a whole (incident.Tx.OrgCanSee), evaluated after the change.
//
// It is an incident.Bus handler on the events every such change writes (a
// field_changed of tlp, an escalation_declined), so that every path that
// changes the TLP — the API, a playbook's set step, bulk changes — goes
// through it without knowing it.
package circle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
)

// Service closes an incident's circle.
type Service struct {
	incidents   *incident.Service
	escalations *escalation.Service
	notify      *notify.Service
}

// NewService returns a Service; every argument is required.
func NewService(incidents *incident.Service, escalations *escalation.Service, n *notify.Service) (*Service, error) {
	if incidents == nil || escalations == nil || n == nil {
		return nil, errors.New("circle: incidents, escalations and notify are required")
	}
	return &Service{incidents: incidents, escalations: escalations, notify: n}, nil
}

// Handler is the incident.Bus handler that closes the circle after a TLP
// change or a declined escalation, in the transaction of the change.
// Subscribe it after the other handlers: it may change the incident
// (unassign a removed participant), and later handlers of the same round
// would see it as it was.
func (s *Service) Handler() incident.Handler {
	return incident.Handler{
		Name:  "circle",
		Kinds: []incident.EventKind{incident.EventFieldChanged, escalation.EventEscalationDeclined},
		Match: func(ev incident.Event) bool {
			if ev.Kind != incident.EventFieldChanged {
				return true
			}
			var d struct{ Field string }
			return json.Unmarshal(ev.Data, &d) == nil && d.Field == "tlp"
		},
		Handle: s.handle,
	}
}

// cause is what made the circle smaller.
type cause struct {
	by     incident.Actor
	reason string // "the TLP was raised from TLP:AMBER to TLP:AMBER+STRICT"
	// participant reports whether a participant of the organisation is
	// checked against the circle (nil: none is): all of them when the
	// incident became TLP:AMBER+STRICT from a looser TLP, those of the
	// organisation that left a TLP:AMBER+STRICT circle. On TLP:RED the
	// named participants are the circle and stay; on looser labels a named
	// participant is a grant of its own.
	participant func(orgSlug string) bool
	// refreshRoots: the change did not change the incident, so thread
	// roots are not updated by it; queue their update.
	refreshRoots bool
}

func (s *Service) handle(ctx context.Context, itx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
	tx, ok := itx.(escalation.Tx)
	if !ok {
		return fmt.Errorf("circle: %T does not implement escalation.Tx", itx)
	}
	for _, ev := range evs {
		c, ok := causeOf(inc, ev)
		if !ok {
			continue
		}
		if err := s.close(ctx, tx, inc, c); err != nil {
			return err
		}
	}
	return nil
}

// causeOf says how ev made the circle smaller; false when it did not (a
// TLP lowered: everyone who saw the incident still does).
func causeOf(inc *incident.Incident, ev incident.Event) (cause, bool) {
	c := cause{by: incident.ActorOfEvent(ev)}
	switch ev.Kind {
	case incident.EventFieldChanged:
		var d struct{ Old, New incident.TLP }
		if err := json.Unmarshal(ev.Data, &d); err != nil || !d.New.Stricter(d.Old) {
			return c, false
		}
		c.reason = fmt.Sprintf("the TLP was raised from %s to %s", d.Old, d.New)
		if d.New == incident.TLPAmberStrict {
			c.participant = func(string) bool { return true }
		}
	case escalation.EventEscalationDeclined:
		var d struct {
			ToOrg string `json:"to_org"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		c.reason = d.ToOrg + " declined the escalation"
		if inc.TLP == incident.TLPAmberStrict {
			c.participant = func(slug string) bool { return slug == d.ToOrg }
		}
		c.refreshRoots = true
	default:
		return c, false
	}
	return c, true
}

// close ends, in tx, whatever reaches outside the incident's circle after
// c: requested escalations, shares, participants (as c says) and queued
// notifications of organisations that do not see the incident now.
func (s *Service) close(ctx context.Context, tx escalation.Tx, inc *incident.Incident, c cause) error {
	seen := map[uuid.UUID]bool{}
	sees := func(orgID uuid.UUID) (bool, error) {
		if ok, done := seen[orgID]; done {
			return ok, nil
		}
		ok, err := tx.OrgCanSee(ctx, orgID, inc.ID)
		seen[orgID] = ok
		return ok, err
	}
	why := func(org string) string { return c.reason + ": " + org + " no longer sees the incident" }

	escs, err := tx.OpenEscalations(ctx, inc.ID)
	if err != nil {
		return err
	}
	for i := range escs {
		e := &escs[i]
		if ok, err := sees(e.ToOrgID); err != nil {
			return err
		} else if !ok {
			if err := s.escalations.Cancel(ctx, tx, c.by, inc, e, why(e.ToOrgSlug)); err != nil {
				return err
			}
		}
	}
	shares, err := tx.Shares(ctx, inc.ID)
	if err != nil {
		return err
	}
	for _, sh := range shares {
		if ok, err := sees(sh.OrgID); err != nil {
			return err
		} else if !ok {
			if err := s.incidents.EndShare(ctx, tx, c.by, inc, sh, why(sh.OrgSlug)); err != nil {
				return err
			}
		}
	}
	if c.participant != nil {
		parts, err := tx.Participants(ctx, inc.ID)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			if !c.participant(pt.OrgSlug) {
				continue
			}
			if ok, err := sees(pt.OrgID); err != nil {
				return err
			} else if !ok {
				if err := s.incidents.RemoveParticipant(ctx, tx, c.by, inc, pt, why(pt.OrgSlug)); err != nil {
					return err
				}
			}
		}
	}
	pending, err := tx.PendingNotifications(ctx, inc.ID)
	if err != nil {
		return err
	}
	for i := range pending {
		n := &pending[i]
		if ok, err := sees(n.RecipientOrgID); err != nil {
			return err
		} else if !ok {
			if err := s.notify.Withdraw(ctx, tx, n, c.by, why(n.RecipientOrgSlug)); err != nil {
				return err
			}
		}
	}
	if c.refreshRoots {
		return s.notify.RefreshRoots(ctx, tx, inc.ID, inc.Version)
	}
	return nil
}
