// Package escalation holds escalations between organisations and the
// escalation policies that raise them by themselves (docs/escalation.md).
//
// An escalation asks another organisation to coordinate an incident or to
// assist with it, or informs it. It is requested, then accepted or declined by the
// receiving organisation's coordinators; an accepted one may be returned.
// Every state change is a timeline event, an audit entry and a
// notification to both organisations, all in the transaction of the change.
//
// A policy is an organisation's list of rules ("severity high or above and
// not acknowledged within 15 minutes: escalate to the parent CERT, and on
// up the tree"). Rules are evaluated by scheduled River jobs (timers) that
// an incident.Bus handler creates when an incident is created or changes,
// and cancels when it is acknowledged or closed.
package escalation

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Kind is what the receiving organisation is asked to do.
type Kind string

// The kinds of escalation.
const (
	// Coordinate asks the organisation to take over coordination: when it
	// accepts, it becomes the coordinating organisation.
	Coordinate Kind = "coordinate"
	// Assist asks the organisation to help: when it accepts, it takes part
	// in the incident (it sees it as far as its TLP allows).
	Assist Kind = "assist"
	// Inform tells the organisation about the incident without asking it
	// to act: it sees the incident as far as its TLP allows and has the
	// rights of an organisation it was shared with (it may comment and
	// add indicators, not work the incident); accepting acknowledges that
	// it was informed and changes nothing else. Only people ask for it;
	// policies and playbooks escalate to coordinate or assist.
	Inform Kind = "inform"
)

// Kinds lists the kinds.
var Kinds = []Kind{Coordinate, Assist, Inform}

// State is where an escalation stands.
type State string

// The states: requested → accepted | declined | cancelled; accepted →
// returned.
const (
	Requested State = "requested"
	Accepted  State = "accepted"
	Declined  State = "declined"
	Returned  State = "returned"
	// Cancelled is a request whose receiving organisation no longer sees
	// the incident (its TLP was raised): it can no longer be accepted.
	Cancelled State = "cancelled"
)

// States lists the states.
var States = []State{Requested, Accepted, Declined, Returned, Cancelled}

// The timeline event kinds of escalations. The playbook engine triggers
// incident.escalated on EventEscalated.
const (
	EventEscalated          incident.EventKind = "escalated"
	EventEscalationAccepted incident.EventKind = "escalation_accepted"
	EventEscalationDeclined incident.EventKind = "escalation_declined"
	EventEscalationReturned incident.EventKind = "escalation_returned"
	// EventEscalationCancelled records a request cancelled because its
	// receiving organisation no longer sees the incident.
	EventEscalationCancelled incident.EventKind = "escalation_cancelled"
	// EventStrictCircleJoined records that the requester of an escalation
	// of a TLP:AMBER+STRICT incident confirmed that the receiving
	// organisation joins the incident's circle.
	EventStrictCircleJoined incident.EventKind = "strict_circle_joined"
	// EventPolicyNotified records that a policy rule with action notify
	// told an organisation about an unacknowledged incident.
	EventPolicyNotified incident.EventKind = "escalation_policy_notified"
)

// The audit actions of escalations and policies.
const (
	AuditRequested audit.Action = "escalation.requested"
	AuditAccepted  audit.Action = "escalation.accepted"
	AuditDeclined  audit.Action = "escalation.declined"
	AuditReturned  audit.Action = "escalation.returned"
	AuditCancelled audit.Action = "escalation.cancelled"
	AuditPolicySet audit.Action = "escalation_policy.set"
)

// Limits on free text.
const (
	MaxReason = 2000
)

// Escalation is one request to another organisation.
type Escalation struct {
	ID                 uuid.UUID
	IncidentID         uuid.UUID
	FromOrgID          uuid.UUID
	ToOrgID            uuid.UUID
	Kind               Kind
	State              State
	Reason             string
	RequestedByUserID  *uuid.UUID
	RequestedBy        string // the actor: an e-mail, "playbook", or "escalation policy <org>: <rule>"
	RequestedAt        time.Time
	DecidedByUserID    *uuid.UUID
	DecidedBy          string
	DecidedAt          *time.Time
	DecisionReason     string
	ReturnedByUserID   *uuid.UUID
	ReturnedBy         string
	ReturnedAt         *time.Time
	ReturnReason       string
	PreviousCoordOrgID *uuid.UUID

	// filled on reads
	IncidentReference string
	IncidentTitle     *string // nil where the reader may not see the incident
	FromOrgSlug       string
	ToOrgSlug         string
}

// Filter narrows a list of escalations.
type Filter struct {
	// Direction is "inbox" (to the reader's organisation), "outbox" (from
	// it), or "" for both.
	Direction string
	// State keeps one state; "" keeps all.
	State State
	// IncidentID, when set, keeps the escalations of one incident.
	IncidentID *uuid.UUID
}

// Store is the persistence of escalations and policies.
type Store interface {
	// InEscalationTx runs fn in one database transaction.
	InEscalationTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Escalations returns a page of the escalations to or from p's
	// organisation, newest first, and the next page's cursor.
	Escalations(ctx context.Context, p access.Principal, f Filter, page incident.Page) ([]Escalation, string, error)
	// Escalation returns one escalation to or from p's organisation;
	// apperr.NotFound for any other.
	Escalation(ctx context.Context, p access.Principal, id uuid.UUID) (*Escalation, error)
}

// Tx is what escalations do inside a transaction: the incident's and the
// outbox's operations, and their own.
type Tx interface {
	incident.Tx
	notify.Tx
	// InsertEscalation inserts e; apperr.Conflict when an open request to
	// the same organisation exists for the incident.
	InsertEscalation(ctx context.Context, e *Escalation) error
	// LockEscalation reads an escalation and locks it, after its incident
	// (the lock order of every incident change); apperr.NotFound when
	// there is none.
	LockEscalation(ctx context.Context, id uuid.UUID) (*Escalation, error)
	// UpdateEscalation writes the state and decision columns of e.
	UpdateEscalation(ctx context.Context, e *Escalation) error
	// OpenEscalationTo reports whether the incident has a requested
	// escalation to the organisation.
	OpenEscalationTo(ctx context.Context, incidentID, orgID uuid.UUID) (bool, error)
	// OrgByID returns one organisation; apperr.NotFound when there is none.
	OrgByID(ctx context.Context, id uuid.UUID) (*org.Organization, error)
	// NationalCERT returns the national CERT; apperr.NotFound if none.
	NationalCERT(ctx context.Context) (*org.Organization, error)
	// ShareKind returns how the incident is shared with the organisation:
	// "share", "escalation", or "" when it is not.
	ShareKind(ctx context.Context, incidentID, orgID uuid.UUID) (string, error)
	// DropEscalationShare removes the incident's share of kind escalation
	// with the organisation unless another escalation to it is still
	// requested or accepted.
	DropEscalationShare(ctx context.Context, incidentID, orgID uuid.UUID) error
	// OpenEscalations returns the incident's requested escalations,
	// locked, oldest first.
	OpenEscalations(ctx context.Context, incidentID uuid.UUID) ([]Escalation, error)
	// JoinStrictCircle marks the organisation's share of the incident (a
	// new one of kind escalation when it has none) as in the circle of a
	// TLP:AMBER+STRICT incident.
	JoinStrictCircle(ctx context.Context, incidentID, orgID uuid.UUID, note string, by *uuid.UUID) error
	// IsBelow reports whether id is ancestor or in its constituency.
	IsBelow(ctx context.Context, ancestor, id uuid.UUID) (bool, error)

	// GoverningPolicy returns the policy that applies to incidents reported
	// by orgID: the first one with rules of orgID and then of the
	// organisations above it, nearest first, with its organisation; nil,
	// nil when none has rules.
	GoverningPolicy(ctx context.Context, orgID uuid.UUID) (*org.Organization, *Policy, error)
	// Policy returns the organisation's policy; an empty one when it has none.
	Policy(ctx context.Context, orgID uuid.UUID) (*Policy, error)
	// PutPolicy stores the organisation's policy.
	PutPolicy(ctx context.Context, orgID uuid.UUID, p *Policy) error

	// InsertTimer inserts a policy timer.
	InsertTimer(ctx context.Context, t *Timer) error
	// LockTimer reads a timer and locks it, after its incident;
	// apperr.NotFound when there is none.
	LockTimer(ctx context.Context, id uuid.UUID) (*Timer, error)
	// SetTimerState writes a timer's state and note.
	SetTimerState(ctx context.Context, id uuid.UUID, state TimerState, note string) error
	// Timers lists the incident's timers in the given states (all when
	// none are given), oldest first.
	Timers(ctx context.Context, incidentID uuid.UUID, states ...TimerState) ([]Timer, error)
}
