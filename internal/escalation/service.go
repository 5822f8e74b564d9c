package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Options configures NewService.
type Options struct {
	Store     Store
	Incidents *incident.Service
	Notify    *notify.Service
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service holds the escalation and policy use cases.
type Service struct {
	store     Store
	incidents *incident.Service
	notify    *notify.Service
	log       *slog.Logger
	now       func() time.Time
}

// NewService returns a Service; Store, Incidents and Notify are required.
func NewService(o Options) (*Service, error) {
	if o.Store == nil || o.Incidents == nil || o.Notify == nil {
		return nil, errors.New("escalation: Store, Incidents and Notify are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, incidents: o.Incidents, notify: o.Notify, log: o.Logger, now: o.Now}, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// actor is who changes an escalation: a user, or certdesk itself under a
// name that says why ("playbook", "escalation policy region-north: high").
type actor struct {
	userID *uuid.UUID
	name   string
	remote string
}

func actorOf(p access.Principal) actor {
	return actor{userID: p.UserIDPtr(), name: p.Name(), remote: p.RemoteAddr}
}

func etxOf(tx incident.Tx) (Tx, error) {
	etx, ok := tx.(Tx)
	if !ok {
		return nil, fmt.Errorf("escalation: %T does not implement escalation.Tx", tx)
	}
	return etx, nil
}

// checkRequest validates the shape of a request: the kind ("" is assist),
// the reason and the target's spelling.
func checkRequest(to, kind, reason string) (Kind, error) {
	var fs apperr.Fields
	k := Kind(kind)
	if k == "" {
		k = Assist
	}
	if !slices.Contains(Kinds, k) {
		fs.Add("kind", "enum", "kind must be coordinate, assist or inform")
	}
	fs.Text("reason", reason, MaxReason)
	fs.Text("to", to, 64)
	return k, fs.Err()
}

// Ask is a request to escalate an incident.
type Ask struct {
	// To is an organisation's slug, "parent" or "" (the parent CERT of the
	// coordinating organisation, or of the reporter while unrouted).
	To string
	// Kind is coordinate, assist or inform ("" is assist).
	Kind   string
	Reason string
	// JoinsStrictCircle confirms, for a TLP:AMBER+STRICT incident, that
	// the receiving organisation joins the incident's circle: it then
	// sees the incident (docs/security.md). Without it, escalating such an
	// incident to an organisation outside its circle is refused.
	JoinsStrictCircle bool
}

// Request asks the organisation a.To to coordinate or assist with the
// incident, or informs it.
//
// Errors: apperr.NotFound when p may not see the incident; Forbidden when
// p's role may not escalate or p's organisation does not own the incident;
// Invalid naming "to" for a target that is not a CERT above the reporting
// or coordinating organisation or a partner; Conflict for a closed
// incident, a TLP:RED incident, a TLP:AMBER+STRICT incident to an
// organisation outside its circle without a.JoinsStrictCircle (naming
// that field), a TLP:AMBER incident to a partner it was not shared with
// explicitly, and when a request to the same organisation is still open.
func (s *Service) Request(ctx context.Context, p access.Principal, idOrRef string, a Ask) (*Escalation, error) {
	k, err := checkRequest(a.To, a.Kind, a.Reason)
	if err != nil {
		return nil, err
	}
	var e *Escalation
	err = s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		// The write table: the organisations that own the incident
		// (reporting, coordinating, CERT above) escalate it.
		if err := p.RequireWrite(access.EscalateIncident, inc.Relations); err != nil {
			return err
		}
		from, err := tx.OrgByID(ctx, p.OrgID)
		if err != nil {
			return err
		}
		target, err := s.resolveTarget(ctx, tx, inc, from, a.To)
		if err != nil {
			return err
		}
		e, err = s.request(ctx, tx, actorOf(p), inc, from, target, k, a.Reason, a.JoinsStrictCircle)
		return err
	})
	return e, err
}

// EscalateForPlaybook is the playbook engine's escalate action: inside the
// given transaction, as certdesk with the actor "playbook", it escalates
// inc from its coordinating organisation (the reporter while unrouted) to
// to ("parent", "" or an organisation's slug). kind "" is assist. It
// returns the escalation's ID, with the errors of Request.
func (s *Service) EscalateForPlaybook(ctx context.Context, tx incident.Tx, inc *incident.Incident, to, kind, reason string) (escalationID string, err error) {
	etx, err := etxOf(tx)
	if err != nil {
		return "", err
	}
	k, err := checkRequest(to, kind, reason)
	if err != nil {
		return "", err
	}
	fromID := inc.ReportingOrgID
	if inc.CoordinatingOrgID != nil {
		fromID = *inc.CoordinatingOrgID
	}
	from, err := etx.OrgByID(ctx, fromID)
	if err != nil {
		return "", err
	}
	target, err := s.resolveTarget(ctx, etx, inc, from, to)
	if err != nil {
		return "", err
	}
	e, err := s.request(ctx, etx, actor{name: "playbook"}, inc, from, target, k, reason, false)
	if err != nil {
		return "", err
	}
	return e.ID.String(), nil
}

func toField(format string, args ...any) error {
	return apperr.Fields{{Field: "to", Rule: "target", Message: fmt.Sprintf(format, args...)}}.Err()
}

// resolveTarget finds the organisation a request names and checks that it
// may receive the incident from `from`.
func (s *Service) resolveTarget(ctx context.Context, tx Tx, inc *incident.Incident, from *org.Organization, to string) (*org.Organization, error) {
	base := inc.ReportingOrgID
	if inc.CoordinatingOrgID != nil {
		base = *inc.CoordinatingOrgID
	}
	baseChain, err := tx.OrgChain(ctx, base)
	if err != nil {
		return nil, err
	}
	to = strings.TrimSpace(to)
	var target *org.Organization
	switch to {
	case "", ToParent:
		for _, o := range baseChain[1:] {
			if o.Kind.IsCERT() {
				target = &o
				break
			}
		}
		if target == nil {
			return nil, toField("%s has no CERT above it: name the organisation to escalate to", baseChain[0].Slug)
		}
	default:
		o, err := tx.OrgBySlug(ctx, to)
		if apperr.Is(err, apperr.NotFound) {
			return nil, toField("no organisation has the slug %q", to)
		} else if err != nil {
			return nil, err
		}
		target = o
		if o.Kind != org.Partner {
			repChain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
			if err != nil {
				return nil, err
			}
			if !aboveIncident(o, repChain, baseChain) {
				return nil, toField("an incident is escalated to a CERT above the reporting or coordinating organisation, or to a partner; %s is neither", o.Slug)
			}
		}
	}
	switch targetRefusal(inc, from.ID, target) {
	case RefusedSelf:
		return nil, toField("%s cannot escalate to itself", from.Slug)
	case RefusedCoordinates:
		return nil, toField("%s already coordinates the incident", target.Slug)
	}
	return target, nil
}

// aboveIncident reports whether o is a CERT above the reporting
// organisation (repChain) or the coordinating one (baseChain), each chain
// nearest first from the organisation itself.
func aboveIncident(o *org.Organization, repChain, baseChain []org.Organization) bool {
	for _, c := range append(repChain[1:len(repChain):len(repChain)], baseChain[1:]...) {
		if c.ID == o.ID && c.Kind.IsCERT() {
			return true
		}
	}
	return false
}

// targetRefusal is why target may not receive inc from the organisation
// fromID whatever else holds: itself, or the coordinating organisation
// already; "" when neither.
func targetRefusal(inc *incident.Incident, fromID uuid.UUID, target *org.Organization) Refusal {
	switch {
	case target.ID == fromID:
		return RefusedSelf
	case inc.CoordinatingOrgID != nil && target.ID == *inc.CoordinatingOrgID:
		return RefusedCoordinates
	}
	return ""
}

// JoinsStrictCircleField names the request field that confirms that the
// receiving organisation joins a TLP:AMBER+STRICT incident's circle.
const JoinsStrictCircleField = "joins_strict_circle"

// admit decides whether target may receive the incident, by the
// visibility rule for the target as an organisation (docs/security.md,
// "Escalations and TLP"): a TLP:RED incident never (named participants
// only); a TLP:AMBER+STRICT incident when the target is in its circle, or
// joins it (joins: the requester's confirmation; join is then true); a
// TLP:AMBER incident to a partner only when the partner sees it already
// (an explicit share). Refusals are apperr.Conflict.
func admit(ctx context.Context, tx Tx, inc *incident.Incident, target *org.Organization, joins bool) (join bool, err error) {
	if inc.TLP == incident.TLPRed {
		return false, apperr.New(apperr.Conflict, "a %s incident is not escalated to organisations: name participants of %s instead, or lower the TLP", inc.TLP, target.Slug)
	}
	if inc.TLP != incident.TLPAmberStrict && (inc.TLP != incident.TLPAmber || target.Kind != org.Partner) {
		return false, nil
	}
	sees, err := tx.OrgCanSee(ctx, target.ID, inc.ID)
	if err != nil || sees {
		return false, err
	}
	if inc.TLP == incident.TLPAmber {
		return false, apperr.New(apperr.Conflict, "a partner sees a TLP:AMBER incident only when it is shared with it explicitly: share it with %s first", target.Slug)
	}
	if !joins {
		return false, &apperr.Error{Code: apperr.Conflict,
			Message: fmt.Sprintf("%s is outside the circle of this %s incident (its reporting and coordinating organisations and those that joined it)", target.Slug, inc.TLP),
			Fields: []apperr.FieldError{{Field: JoinsStrictCircleField, Rule: "required",
				Message: fmt.Sprintf("confirm that %s joins the incident's circle and may see it (%s: true), or name participants of the circle instead", target.Slug, JoinsStrictCircleField)}}}
	}
	return true, nil
}

// request records a requested escalation with its share, timeline event,
// audit entry and the notifications of both sides. joins is the
// requester's confirmation that the target joins a TLP:AMBER+STRICT
// incident's circle (admit); joining is recorded on the timeline and in
// the audit log of its own.
func (s *Service) request(ctx context.Context, tx Tx, a actor, inc *incident.Incident, from, to *org.Organization, k Kind, reason string, joins bool) (*Escalation, error) {
	if inc.Status == incident.Closed {
		return nil, apperr.New(apperr.Conflict, "the incident is closed: reopen it before escalating")
	}
	join, err := admit(ctx, tx, inc, to, joins)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	e := &Escalation{ID: uuid.New(), IncidentID: inc.ID, FromOrgID: from.ID, ToOrgID: to.ID, Kind: k, State: Requested,
		Reason: reason, RequestedByUserID: a.userID, RequestedBy: a.name, RequestedAt: now,
		IncidentReference: inc.Reference, FromOrgSlug: from.Slug, ToOrgSlug: to.Slug}
	title := inc.Title
	e.IncidentTitle = &title
	if err := tx.InsertEscalation(ctx, e); err != nil {
		return nil, err
	}
	if _, err := tx.InsertShare(ctx, inc.ID, to.ID, "escalation", "escalated: "+string(k), a.userID); err != nil {
		return nil, err
	}
	data := map[string]any{"escalation_id": e.ID, "from_org": from.Slug, "to_org": to.Slug, "kind": k, "reason": reason,
		"from_org_name": from.Name, "to_org_name": to.Name}
	if join {
		if err := s.joinCircle(ctx, tx, a, inc, to, e.ID, "escalated: the requester confirmed that it joins"); err != nil {
			return nil, err
		}
		data[JoinsStrictCircleField] = true
	}
	headline := fmt.Sprintf("Escalated from %s to %s (%s)", from.Slug, to.Slug, k)
	if err := s.record(ctx, tx, a, inc, e, EventEscalated, AuditRequested, data, from, to, headline); err != nil {
		return nil, err
	}
	return e, nil
}

// joinCircle records, in tx, that o joins the circle of the
// TLP:AMBER+STRICT incident inc: its share is marked, with a
// strict_circle_joined timeline event and audit entry saying why.
func (s *Service) joinCircle(ctx context.Context, tx Tx, a actor, inc *incident.Incident, o *org.Organization, escalationID uuid.UUID, why string) error {
	if err := tx.JoinStrictCircle(ctx, inc.ID, o.ID, "joined the strict circle: "+why, a.userID); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"org": o.Slug, "org_name": o.Name, "escalation_id": escalationID, "tlp": inc.TLP,
		"confirmed_by": a.name, "reason": why})
	if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, ActorUserID: a.userID, Actor: a.name,
		Kind: EventStrictCircleJoined, Data: b, OccurredAt: s.clock()}); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Entry{ActorUserID: a.userID, Actor: a.name, Action: audit.StrictCircleJoined,
		TargetType: "incident", TargetID: inc.Reference, RemoteAddr: a.remote, Data: b})
}

// Cancel cancels, in tx, a requested escalation whose receiving
// organisation no longer sees the incident (its TLP was raised): state
// cancelled, decided by `by` with reason, an escalation_cancelled
// timeline event and an audit entry. Nobody is notified: the receiving
// organisation may no longer hear about the incident, and the requesting
// side sees the change on the timeline. An escalation that is no longer
// requested is left as it is.
func (s *Service) Cancel(ctx context.Context, tx Tx, by incident.Actor, inc *incident.Incident, e *Escalation, reason string) error {
	if e.State != Requested {
		return nil
	}
	now := s.clock()
	e.State, e.DecidedByUserID, e.DecidedBy, e.DecidedAt, e.DecisionReason = Cancelled, by.UserID, by.Name, &now, reason
	if err := tx.UpdateEscalation(ctx, e); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"escalation_id": e.ID, "from_org": e.FromOrgSlug, "to_org": e.ToOrgSlug,
		"kind": e.Kind, "reason": reason})
	if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, ActorUserID: by.UserID, Actor: by.Name,
		Kind: EventEscalationCancelled, Data: b, OccurredAt: now}); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Entry{ActorUserID: by.UserID, Actor: by.Name, Action: AuditCancelled, TargetType: "escalation",
		TargetID: e.ID.String(), RemoteAddr: by.RemoteAddr, Data: b})
}

// record appends the event of a state change, audits it and notifies both
// organisations (one notification per escalation, state and side).
func (s *Service) record(ctx context.Context, tx Tx, a actor, inc *incident.Incident, e *Escalation, kind incident.EventKind,
	action audit.Action, data map[string]any, from, to *org.Organization, headline string) error {
	b, _ := json.Marshal(data)
	ev := &incident.Event{IncidentID: inc.ID, ActorUserID: a.userID, Actor: a.name, Kind: kind, Data: b, OccurredAt: s.clock()}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	if err := tx.Audit(ctx, audit.Entry{ActorUserID: a.userID, Actor: a.name, Action: action, TargetType: "escalation",
		TargetID: e.ID.String(), RemoteAddr: a.remote, Data: b}); err != nil {
		return err
	}
	for _, side := range []struct {
		name string
		o    *org.Organization
	}{{"to", to}, {"from", from}} {
		key := fmt.Sprintf("escalation:%s:%s:%s", e.ID, e.State, side.name)
		// The organisation asked gets Accept and Decline on the request.
		var actions []notify.Action
		if e.State == Requested && side.name == "to" {
			actions = notify.EscalationActions(e.ID.String())
		}
		if _, err := s.notify.QueueWithActions(ctx, tx, inc, *side.o, key, "escalation."+string(e.State), &ev.ID, headline, actions); err != nil {
			return err
		}
	}
	return nil
}

// transitions lists what may follow each state (for 409 answers).
var transitions = map[State][]string{Requested: {"accept", "decline"}, Accepted: {"return"}, Declined: {}, Returned: {}, Cancelled: {}}

// decide loads an escalation for a decision by p: invisible (p's
// organisation is neither side) is NotFound; what the write table does not
// allow (escalation.decide: coordinators and admins of the receiving
// organisation) is Forbidden; a state other than want is Conflict naming
// the allowed actions.
func (s *Service) decide(ctx context.Context, tx Tx, p access.Principal, id string, want State, verb string) (*Escalation, *incident.Incident, *org.Organization, *org.Organization, error) {
	eid, err := uuid.Parse(id)
	if err != nil {
		return nil, nil, nil, nil, apperr.New(apperr.NotFound, "escalation %q not found", id)
	}
	e, err := tx.LockEscalation(ctx, eid)
	if apperr.Is(err, apperr.NotFound) || (err == nil && !p.System && p.OrgID != e.ToOrgID && p.OrgID != e.FromOrgID) {
		return nil, nil, nil, nil, apperr.New(apperr.NotFound, "escalation %q not found", id)
	} else if err != nil {
		return nil, nil, nil, nil, err
	}
	// The write table, for the relation to this escalation: its receiving
	// organisation is the one it was escalated to.
	var rels access.Relations
	if p.OrgID == e.ToOrgID {
		rels = access.Of(access.EscalatedTo)
	}
	if err := p.RequireWrite(access.DecideEscalation, rels); err != nil {
		return nil, nil, nil, nil, apperr.New(apperr.Forbidden, "only the coordinators and administrators of the receiving organisation (%s) may %s this escalation", e.ToOrgSlug, verb)
	}
	if e.State != want {
		return nil, nil, nil, nil, &apperr.Error{Code: apperr.Conflict,
			Message: fmt.Sprintf("the escalation is %s: it cannot be %s", e.State, verb+"ed"),
			Details: map[string]any{"state": e.State, "allowed": transitions[e.State]}}
	}
	inc, err := tx.LockIncident(ctx, access.System, e.IncidentID.String())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// Accepting hands the incident to the receiving organisation as a
	// whole: it must see the incident now, by the visibility rule for
	// the organisation (finding 2 of issue 10). Declining and returning
	// only give up what it had, so they stay possible.
	if verb == "accept" && !p.System {
		sees, err := tx.OrgCanSee(ctx, e.ToOrgID, inc.ID)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if !sees {
			return nil, nil, nil, nil, apperr.New(apperr.NotFound,
				"the incident of escalation %s is not found: your organisation no longer sees it, so the escalation cannot be accepted", id)
		}
	}
	from, err := tx.OrgByID(ctx, e.FromOrgID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	to, err := tx.OrgByID(ctx, e.ToOrgID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return e, inc, from, to, nil
}

func checkReason(reason string, required bool, what string) error {
	var fs apperr.Fields
	if required && strings.TrimSpace(reason) == "" {
		fs.Add("reason", "required", "%s needs a reason", what)
	} else {
		fs.Text("reason", reason, MaxReason)
	}
	return fs.Err()
}

// decision is one decision on an escalation, loaded and locked by decide:
// what the step of each decision changes and records.
type decision struct {
	e        *Escalation
	inc      *incident.Incident
	from, to *org.Organization
	now      time.Time
	data     map[string]any // the event's and audit entry's data
}

// decisionStep is the part of a decision that differs between accept,
// decline and return: it changes the incident, settles the escalation
// (settle) and returns the timeline headline.
type decisionStep func(ctx context.Context, tx Tx, d *decision) (headline string, err error)

// runDecision runs one decision by p on escalation id in a transaction:
// it checks the reason (required or not, what names the decision), loads
// and locks the escalation in state want (decide, with verb), runs step,
// and records the event kind and audit action. The escalation returned is
// the one step settled.
func (s *Service) runDecision(ctx context.Context, p access.Principal, id, reason string, required bool, what string,
	want State, verb string, kind incident.EventKind, action audit.Action, step decisionStep) (*Escalation, error) {
	if err := checkReason(reason, required, what); err != nil {
		return nil, err
	}
	var e *Escalation
	err := s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		d := &decision{}
		var err error
		if d.e, d.inc, d.from, d.to, err = s.decide(ctx, tx, p, id, want, verb); err != nil {
			return err
		}
		e = d.e
		d.now = s.clock()
		d.data = map[string]any{"escalation_id": d.e.ID, "from_org": d.from.Slug, "to_org": d.to.Slug, "kind": d.e.Kind, "reason": reason,
			"from_org_name": d.from.Name, "to_org_name": d.to.Name}
		headline, err := step(ctx, tx, d)
		if err != nil {
			return err
		}
		if err := s.record(ctx, tx, actorOf(p), d.inc, d.e, kind, action, d.data, d.from, d.to, headline); err != nil {
			return err
		}
		// The answer shows the incident's title only to a decider who
		// still sees the incident (a decline withdraws the share).
		if _, err := tx.LockIncident(ctx, p, d.inc.ID.String()); apperr.Is(err, apperr.NotFound) {
			e.IncidentTitle = nil
		} else if err != nil {
			return err
		}
		return nil
	})
	return e, err
}

// settle moves the escalation to state, decided (accepted, declined) or
// returned by p with reason, and stores it.
func (d *decision) settle(ctx context.Context, tx Tx, p access.Principal, state State, reason string) error {
	e := d.e
	if state == Returned {
		e.State, e.ReturnedByUserID, e.ReturnedBy, e.ReturnedAt, e.ReturnReason = state, p.UserIDPtr(), p.Name(), &d.now, reason
	} else {
		e.State, e.DecidedByUserID, e.DecidedBy, e.DecidedAt, e.DecisionReason = state, p.UserIDPtr(), p.Name(), &d.now, reason
	}
	return tx.UpdateEscalation(ctx, e)
}

// Accept accepts a requested escalation for p's organisation, the
// receiving one. Accepting coordinate makes it the coordinating
// organisation; accepting assist makes it a participant organisation (the
// escalation's share stays). Errors: see decide.
func (s *Service) Accept(ctx context.Context, p access.Principal, id string, reason string) (*Escalation, error) {
	return s.runDecision(ctx, p, id, reason, false, "accepting", Requested, "accept", EventEscalationAccepted, AuditAccepted,
		func(ctx context.Context, tx Tx, d *decision) (string, error) {
			e, inc, to := d.e, d.inc, d.to
			role := "participant"
			if e.Kind == Inform {
				role = "informed"
			}
			if e.Kind == Coordinate {
				role = "coordinator"
				if inc.CoordinatingOrgID == nil || *inc.CoordinatingOrgID != to.ID {
					prev := inc.CoordinatingOrgID
					e.PreviousCoordOrgID = prev
					d.data["previous_coordinating_org"] = inc.CoordinatingOrgSlug
					if err := tx.SetCoordinatingOrg(ctx, inc.ID, to.ID, d.now); err != nil {
						return "", err
					}
					inc.CoordinatingOrgID, inc.CoordinatingOrgSlug = &to.ID, to.Slug
					// On TLP:AMBER+STRICT the organisation that handed
					// coordination over would leave the circle with it;
					// it keeps the incident it coordinated (and can take
					// coordination back on a return).
					if prev != nil && inc.TLP == incident.TLPAmberStrict {
						po, err := tx.OrgByID(ctx, *prev)
						if err != nil {
							return "", err
						}
						if err := s.joinCircle(ctx, tx, actorOf(p), inc, po, e.ID, "it coordinated the incident until "+to.Slug+" accepted"); err != nil {
							return "", err
						}
					}
				}
				d.data["coordinating_org"], d.data["coordinating_org_name"] = to.Slug, to.Name
			}
			d.data["role"] = role
			if err := d.settle(ctx, tx, p, Accepted, reason); err != nil {
				return "", err
			}
			return fmt.Sprintf("Escalation accepted by %s (%s)", to.Slug, role), nil
		})
}

// Decline declines a requested escalation for p's organisation, with a
// reason (required). The receiving organisation loses the visibility the
// request gave it. Errors: see decide; Invalid without a reason.
func (s *Service) Decline(ctx context.Context, p access.Principal, id string, reason string) (*Escalation, error) {
	return s.runDecision(ctx, p, id, reason, true, "declining", Requested, "decline", EventEscalationDeclined, AuditDeclined,
		func(ctx context.Context, tx Tx, d *decision) (string, error) {
			// Settle first: the share goes only when no requested or
			// accepted escalation to the organisation is left.
			if err := d.settle(ctx, tx, p, Declined, reason); err != nil {
				return "", err
			}
			if err := tx.DropEscalationShare(ctx, d.inc.ID, d.to.ID); err != nil {
				return "", err
			}
			return fmt.Sprintf("Escalation declined by %s", d.to.Slug), nil
		})
}

// Return hands an accepted escalation back, with a reason (required): for
// coordinate, coordination goes back to the organisation that coordinated
// before the acceptance (Conflict when another organisation has taken it
// over since); for assist, the assistance ends. An accepted inform has
// nothing to return (Conflict). Errors: see decide.
func (s *Service) Return(ctx context.Context, p access.Principal, id string, reason string) (*Escalation, error) {
	return s.runDecision(ctx, p, id, reason, true, "returning", Accepted, "return", EventEscalationReturned, AuditReturned,
		func(ctx context.Context, tx Tx, d *decision) (string, error) {
			e, inc, to := d.e, d.inc, d.to
			if e.Kind == Inform {
				return "", &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("%s was informed, not asked to act: there is nothing to return", to.Slug),
					Details: map[string]any{"state": e.State, "allowed": []string{}}}
			}
			if e.Kind == Coordinate {
				if inc.CoordinatingOrgID == nil || *inc.CoordinatingOrgID != to.ID {
					return "", &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("%s no longer coordinates the incident (%s does): there is nothing to return", to.Slug, inc.CoordinatingOrgSlug),
						Details: map[string]any{"state": e.State, "allowed": []string{}}}
				}
				back := d.from
				if e.PreviousCoordOrgID != nil {
					var err error
					if back, err = tx.OrgByID(ctx, *e.PreviousCoordOrgID); err != nil {
						return "", err
					}
				}
				if back.ID != to.ID {
					if err := tx.SetCoordinatingOrg(ctx, inc.ID, back.ID, d.now); err != nil {
						return "", err
					}
				}
				d.data["coordinating_org"], d.data["coordinating_org_name"] = back.Slug, back.Name
			}
			if err := d.settle(ctx, tx, p, Returned, reason); err != nil {
				return "", err
			}
			if e.Kind == Assist {
				return fmt.Sprintf("Assistance ended by %s", to.Slug), nil
			}
			return fmt.Sprintf("Coordination returned by %s", to.Slug), nil
		})
}

// List returns a page of the escalations to or from p's organisation.
// Titles are filled only for incidents p may see.
func (s *Service) List(ctx context.Context, p access.Principal, f Filter, page incident.Page) ([]Escalation, string, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, "", err
	}
	var fs apperr.Fields
	if f.Direction != "" && f.Direction != "inbox" && f.Direction != "outbox" {
		fs.Add("direction", "enum", "direction must be inbox or outbox")
	}
	if f.State != "" && !slices.Contains(States, f.State) {
		fs.Add("state", "enum", "state must be one of: requested, accepted, declined, returned, cancelled")
	}
	if err := fs.Err(); err != nil {
		return nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	return s.store.Escalations(ctx, p, f, page)
}

// Get returns one escalation to or from p's organisation.
func (s *Service) Get(ctx context.Context, p access.Principal, id string) (*Escalation, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, err
	}
	eid, err := uuid.Parse(id)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "escalation %q not found", id)
	}
	return s.store.Escalation(ctx, p, eid)
}
