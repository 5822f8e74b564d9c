// Package triage holds the use cases of a CERT's triage queue that are
// more than one incident's: bulk actions over many incidents, and a
// responder's saved views of the queue (docs/ui.md, "The triage queue";
// docs/api.md, "Bulk actions").
//
// A bulk action is the same use case as the single call, once per
// incident, each in its own transaction: acknowledging is
// incident.Service.Acknowledge, assigning, classifying and setting the
// severity or the TLP are incident.Service.Update, closing is
// incident.Service.Close, and declining is escalation.Service.Decline of
// the incident's requested escalation to the caller's organisation. Every
// item therefore reads its incident through the visibility rule (an
// incident the caller may not see is "not found", exactly as a single
// call answers) and asks the write table; one item that fails says why,
// with its own error, and the others go through.
package triage

import (
	"context"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/taxonomy"
)

// Action is what a bulk request does to each incident.
type Action string

// The bulk actions.
const (
	Acknowledge Action = "acknowledge"
	Assign      Action = "assign"   // to a person (Assignee: an e-mail or "me") or a team (Team)
	Classify    Action = "classify" // RSIT category and type
	SetSeverity Action = "severity"
	SetTLP      Action = "tlp"
	Close       Action = "close"   // with one resolution for all
	Decline     Action = "decline" // the escalation to the caller's organisation, with one reason for all
)

// Actions lists the bulk actions.
var Actions = []Action{Acknowledge, Assign, Classify, SetSeverity, SetTLP, Close, Decline}

// MaxItems bounds one bulk request.
const MaxItems = 200

// Bulk is one bulk request: an action, its parameters (one set for every
// incident) and the incidents, by ID or reference.
type Bulk struct {
	Action    Action
	Incidents []string
	// Assign: Assignee is an e-mail, or "me"; Team is a team's ID. Exactly
	// one of them. A team takes the incidents over unclaimed: the person
	// assignee is removed.
	Assignee string
	Team     string
	// Classify: the RSIT category and, optionally, its type.
	Category string
	Type     string
	// SetSeverity, SetTLP.
	Severity incident.Severity
	TLP      incident.TLP
	// Close: the resolution summary.
	Resolution string
	// Decline: the reason, sent to the organisation that escalated.
	Reason string
}

// Validate checks the request as a whole before any item is tried, naming
// every field that breaks a rule: the action, the list of incidents (1 to
// MaxItems, none twice) and the parameters the action needs. A request
// that passes may still fail item by item.
func (b *Bulk) Validate() error {
	var fs apperr.Fields
	if !slices.Contains(Actions, b.Action) {
		fs.Add("action", "enum", "action must be one of: acknowledge, assign, classify, severity, tlp, close, decline")
	}
	switch n := len(b.Incidents); {
	case n == 0:
		fs.Add("incidents", "required", "name at least one incident")
	case n > MaxItems:
		fs.Add("incidents", "max_items", "at most %d incidents at once", MaxItems)
	}
	seen := map[string]bool{}
	for i, id := range b.Incidents {
		id = strings.TrimSpace(id)
		b.Incidents[i] = id
		if !fs.Text("incidents", id, 64) {
			break
		}
		if id == "" {
			fs.Add("incidents", "required", "an incident's ID or reference is empty")
			break
		}
		if seen[id] {
			fs.Add("incidents", "unique", "%s is named twice", id)
			break
		}
		seen[id] = true
	}
	b.Assignee, b.Team = strings.TrimSpace(b.Assignee), strings.TrimSpace(b.Team)
	switch b.Action {
	case Assign:
		switch {
		case b.Assignee == "" && b.Team == "":
			fs.Add("assignee", "required", "assign needs an assignee (an e-mail, or me) or an assignee_team")
		case b.Assignee != "" && b.Team != "":
			fs.Add("assignee_team", "conflict", "assign to a person or to a team, not both")
		default:
			fs.Text("assignee", b.Assignee, 254)
			fs.Text("assignee_team", b.Team, 64)
		}
	case Classify:
		b.Category, b.Type = strings.TrimSpace(b.Category), strings.TrimSpace(b.Type)
		if b.Category == "" && !strings.Contains(b.Type, ":") {
			fs.Add("category", "required", "classify needs a category")
		} else if field, msg, ok := taxonomy.RSIT.Check(b.Category, b.Type); !ok {
			fs.Add(field, "enum", "%s", msg)
		}
	case SetSeverity:
		if !b.Severity.Valid() {
			fs.Add("severity", "enum", "severity must be one of: low, medium, high, critical")
		}
	case SetTLP:
		if t, ok := incident.ParseTLP(string(b.TLP)); ok {
			b.TLP = t
		} else {
			fs.Add("tlp", "enum", "tlp must be one of: TLP:RED, TLP:AMBER+STRICT, TLP:AMBER, TLP:GREEN, TLP:CLEAR")
		}
	case Close:
		b.Resolution = strings.TrimSpace(b.Resolution)
		if b.Resolution == "" {
			fs.Add("resolution", "required", "closing needs a resolution summary")
		} else {
			fs.Text("resolution", b.Resolution, 20000)
		}
	case Decline:
		b.Reason = strings.TrimSpace(b.Reason)
		if b.Reason == "" {
			fs.Add("reason", "required", "declining needs a reason")
		} else {
			fs.Text("reason", b.Reason, escalation.MaxReason)
		}
	}
	return fs.Err()
}

// Result is the outcome of one item of a bulk request.
type Result struct {
	// Given is the incident's ID or reference as the request named it.
	Given string
	// Incident is the incident after the action (nil when Err is set).
	Incident *incident.Incident
	// Err is why the item failed (an apperr error, as the single call
	// would answer), nil when it went through.
	Err error
}

// Service holds the triage use cases.
type Service struct {
	incidents   *incident.Service
	escalations *escalation.Service
	views       ViewStore
}

// NewService returns a Service over the incident and escalation use cases
// and the saved views' store.
func NewService(incidents *incident.Service, escalations *escalation.Service, views ViewStore) *Service {
	return &Service{incidents: incidents, escalations: escalations, views: views}
}

// Bulk runs b for p on every incident it names, in order, each through
// the single call's use case in its own transaction, and returns one
// result per incident. The request as a whole fails only when it is not
// valid (apperr.Invalid naming the field); every other error belongs to
// its item.
func (s *Service) Bulk(ctx context.Context, p access.Principal, b Bulk) ([]Result, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	out := make([]Result, len(b.Incidents))
	for i, id := range b.Incidents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inc, err := s.one(ctx, p, b, id)
		out[i] = Result{Given: id, Incident: inc, Err: err}
	}
	return out, nil
}

// one runs the action on one incident, as the single call does.
func (s *Service) one(ctx context.Context, p access.Principal, b Bulk, id string) (*incident.Incident, error) {
	switch b.Action {
	case Acknowledge:
		return s.incidents.Acknowledge(ctx, p, id)
	case Assign:
		patch := incident.Patch{}
		if b.Team != "" {
			team, none := b.Team, ""
			patch.AssigneeTeam, patch.Assignee = &team, &none
		} else {
			who := b.Assignee
			if who == "me" {
				who = p.Email
			}
			patch.Assignee = &who
		}
		return s.incidents.Update(ctx, p, id, patch, nil)
	case Classify:
		cat, typ := b.Category, b.Type
		return s.incidents.Update(ctx, p, id, incident.Patch{Category: &cat, Type: &typ}, nil)
	case SetSeverity:
		sev := b.Severity
		return s.incidents.Update(ctx, p, id, incident.Patch{Severity: &sev}, nil)
	case SetTLP:
		tlp := b.TLP
		return s.incidents.Update(ctx, p, id, incident.Patch{TLP: &tlp}, nil)
	case Close:
		return s.incidents.Close(ctx, p, id, b.Resolution, nil)
	case Decline:
		return s.decline(ctx, p, id, b.Reason)
	}
	return nil, apperr.New(apperr.Invalid, "unknown bulk action %q", b.Action)
}

// decline declines the incident's requested escalation to p's
// organisation: the incident is read through the visibility rule first
// (not found, as the single call), and an incident with no such
// escalation is apperr.Conflict.
func (s *Service) decline(ctx context.Context, p access.Principal, id, reason string) (*incident.Incident, error) {
	inc, err := s.incidents.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	incID := inc.ID
	es, _, err := s.escalations.List(ctx, p, escalation.Filter{Direction: "inbox", State: escalation.Requested, IncidentID: &incID},
		incident.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, apperr.New(apperr.Conflict, "no escalation of %s to your organisation is waiting for a decision", inc.Reference)
	}
	if _, err := s.escalations.Decline(ctx, p, es[0].ID.String(), reason); err != nil {
		return nil, err
	}
	after, err := s.incidents.Get(ctx, p, inc.ID.String())
	if apperr.Is(err, apperr.NotFound) {
		// Declining withdrew the sight the escalation gave: the decline
		// went through, and only what names the incident is returned.
		return &incident.Incident{ID: inc.ID, Reference: inc.Reference}, nil
	}
	return after, err
}
