package notify

import (
	"context"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// ActionKind names what a button on a message does. Chat providers send it
// back when someone presses the button (Slack: the action_id).
type ActionKind string

// The actions a message can offer.
const (
	// ActionAcknowledge acknowledges the incident; Value is its ID.
	ActionAcknowledge ActionKind = "acknowledge"
	// ActionAcceptEscalation accepts an escalation; Value is its ID.
	ActionAcceptEscalation ActionKind = "accept_escalation"
	// ActionDeclineEscalation declines an escalation; Value is its ID.
	ActionDeclineEscalation ActionKind = "decline_escalation"
)

// ActionKinds lists every action kind.
var ActionKinds = []ActionKind{ActionAcknowledge, ActionAcceptEscalation, ActionDeclineEscalation}

// Valid reports whether k is a known action kind.
func (k ActionKind) Valid() bool {
	for _, x := range ActionKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Label is the text of the action's button.
func (k ActionKind) Label() string {
	switch k {
	case ActionAcknowledge:
		return "Acknowledge"
	case ActionAcceptEscalation:
		return "Accept escalation"
	case ActionDeclineEscalation:
		return "Decline escalation"
	}
	return string(k)
}

// Action is a button on a message: pressing it does Kind to the object
// Value names (an incident or an escalation ID). A button carries no
// right: whoever presses it acts as their own certdesk user, with their
// role and the visibility rule.
type Action struct {
	Kind  ActionKind
	Value string
}

// AcknowledgeAction is the Acknowledge button of an incident.
func AcknowledgeAction(id uuid.UUID) Action {
	return Action{Kind: ActionAcknowledge, Value: id.String()}
}

// EscalationActions are the Accept and Decline buttons of an escalation
// request.
func EscalationActions(escalationID string) []Action {
	return []Action{{Kind: ActionAcceptEscalation, Value: escalationID}, {Kind: ActionDeclineEscalation, Value: escalationID}}
}

// WantsAcknowledge reports whether a message about inc to recipient offers
// the Acknowledge button: messages to a CERT about an open incident that
// nobody has acknowledged yet.
func WantsAcknowledge(inc *incident.Incident, recipient org.Kind) bool {
	return recipient.IsCERT() && unacknowledged(inc)
}

// unacknowledged reports whether inc is open and nobody acknowledged it.
func unacknowledged(inc *incident.Incident) bool {
	return inc.AcknowledgedAt == nil && inc.Status == incident.Open
}

// message renders the notification of an event about inc for recipient:
// Render, plus the Acknowledge button where WantsAcknowledge says so.
func (s *Service) message(inc *incident.Incident, recipient org.Organization, headline string) Message {
	m := Render(inc, headline, s.baseURL)
	if WantsAcknowledge(inc, recipient.Kind) {
		m.Actions = append(m.Actions, AcknowledgeAction(inc.ID))
	}
	return m
}

// QueueMessage is Queue with a message the caller rendered (with Render,
// so that the TLP rule applies) and may have given actions, such as the
// Accept and Decline buttons of an escalation request. Like Queue, a
// second call for the same event key and recipient changes nothing and
// returns nil. A recipient that does not see the incident now (the
// visibility rule for the organisation as a whole: TLP:RED never reaches
// an organisation) is not addressed: nothing is queued, and nil is
// returned.
//
// A recipient gets one notification per provider: Slack when Slack is
// configured and it has a chat channel, webhook when it has a webhook
// (and webhooks are configured), e-mail to its contact address when it
// has one (and e-mail is configured), log when it has none of these. With
// e-mail configured, each of its people who chose e-mail also gets one
// (RecipientUserID), never for a TLP:RED incident. The first one queued
// is returned.
func (s *Service) QueueMessage(ctx context.Context, tx Tx, inc *incident.Incident, recipient org.Organization,
	eventKey, kind string, eventID *int64, m Message) (*Notification, error) {
	// Only an organisation that sees the incident now is addressed (the
	// visibility rule for the organisation as a whole); delivery decides
	// again when the message is due.
	sees, err := tx.OrgCanSee(ctx, recipient.ID, inc.ID)
	if err != nil || !sees {
		return nil, err
	}
	var providers []Provider
	if s.notifier != nil && recipient.ChatChannel != "" {
		providers = append(providers, Slack)
	}
	hook, err := s.hasWebhook(ctx, tx, recipient.ID)
	if err != nil {
		return nil, err
	}
	if hook {
		providers = append(providers, Webhook)
	}
	var people []*uuid.UUID
	if inc.TLP != incident.TLPRed { // TLP:RED never leaves by e-mail (docs/email.md)
		rs, err := s.emailRecipients(ctx, tx, recipient.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.UserID == nil {
				providers = append(providers, Email)
			} else {
				people = append(people, r.UserID)
			}
		}
	}
	if len(providers) == 0 {
		providers = append(providers, Log)
	}
	type target struct {
		p    Provider
		user *uuid.UUID
	}
	targets := make([]target, 0, len(providers)+len(people))
	for _, p := range providers {
		targets = append(targets, target{p: p})
	}
	for _, u := range people {
		targets = append(targets, target{p: Email, user: u})
	}
	var first *Notification
	var jobs []incident.Job
	for _, t := range targets {
		n := &Notification{
			ID: uuid.New(), IncidentID: inc.ID, EventKey: eventKey, EventID: eventID, EventKind: kind,
			RecipientOrgID: recipient.ID, RecipientUserID: t.user, Provider: t.p, Message: m, State: Pending, CreatedAt: s.clock(),
		}
		if t.p == Slack || t.p == Log {
			n.Channel = recipient.ChatChannel
		}
		inserted, err := tx.InsertNotification(ctx, n)
		if err != nil {
			return nil, err
		}
		if !inserted {
			continue
		}
		jobs = append(jobs, DeliverJob{NotificationID: n.ID})
		if first == nil {
			first = n
		}
	}
	// The deliveries of every provider in one insert.
	if _, err := tx.EnqueueJobs(ctx, jobs, nil); err != nil {
		return nil, err
	}
	return first, nil
}

// QueueWithActions is Queue with buttons added to the message, such as the
// Accept and Decline of an escalation request to the organisation asked.
func (s *Service) QueueWithActions(ctx context.Context, tx Tx, inc *incident.Incident, recipient org.Organization,
	eventKey, kind string, eventID *int64, headline string, actions []Action) (*Notification, error) {
	m := s.message(inc, recipient, headline)
	m.Actions = append(m.Actions, actions...)
	return s.QueueMessage(ctx, tx, inc, recipient, eventKey, kind, eventID, m)
}
