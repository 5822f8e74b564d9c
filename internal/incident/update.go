package incident

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/google/uuid"
)

// More timeline event kinds of the case record.
const (
	EventFieldChanged EventKind = "field_changed"
	EventAssigned     EventKind = "assigned"
	EventStageChanged EventKind = "stage_changed"
	EventClosed       EventKind = "closed"
	EventReopened     EventKind = "reopened"
	EventAcknowledged EventKind = "acknowledged"
	EventDeadlineMet  EventKind = "deadline_met"
	EventManual       EventKind = "manual"
	// EventTeamAssigned: the incident was assigned to a team, or its team
	// was removed (data: old and new team names, team_id).
	EventTeamAssigned EventKind = "team_assigned"
)

// Patch is a JSON merge patch of an incident: nil fields stay as they are.
// Stage and status change through transitions, close and reopen.
type Patch struct {
	Title              *string
	Description        *string
	Severity           *Severity
	TLP                *TLP
	PAP                *PAP
	Category           *string
	Type               *string
	DetectedAt         *time.Time
	ClearDetectedAt    bool
	Tags               *[]string
	Assets             *[]Asset
	PersonalDataBreach *bool
	Significant        *bool
	Assignee           *string // an e-mail; "" removes the assignee
	// AssigneeTeam is a team's ID; "" removes the team. The team must be
	// one of the caller's organisation, and that organisation must see
	// the incident as a whole (so never on TLP:RED: assign a person).
	AssigneeTeam *string
	// AffectedPeople sets how many people a breach affects;
	// ClearAffectedPeople makes it unknown again.
	AffectedPeople      *int64
	ClearAffectedPeople bool
	// Summary changes parts of the executive summary (one
	// summary_changed event for all the parts that changed).
	Summary *SummaryPatch
}

// change is one changed field, for the timeline.
type change struct {
	field    string
	old, new any
}

// mutate runs fn on the incident locked for p, asks the write table whether
// p may do action in its relations to the incident, checks the If-Match version
// (nil: none sent), writes the incident with a new version when fn changed
// it, and appends fn's events; all in one transaction. It is the one path
// every change of an incident's own fields takes (mutateIn is the same
// inside a transaction the caller already holds).
func (s *Service) mutate(ctx context.Context, p access.Principal, idOrRef string, ifMatch *int64, action access.Action,
	fn func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	var out *Incident
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = s.mutateIn(ctx, tx, p, "", idOrRef, ifMatch, action, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mutateIn is mutate inside tx. actor, when not empty, is who the events
// name instead of p (a playbook acting as the system).
func (s *Service) mutateIn(ctx context.Context, tx Tx, p access.Principal, actor, idOrRef string, ifMatch *int64, action access.Action,
	fn func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	inc, err := tx.LockIncident(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(action, inc.Relations); err != nil {
		return nil, err
	}
	if ifMatch != nil && *ifMatch != inc.Version {
		return nil, &apperr.Error{Code: apperr.Precondition,
			Message: "the incident changed since you read it: reload it and apply your change again",
			Details: map[string]any{"current_version": inc.Version}}
	}
	if actor == "" {
		actor = p.Name()
	}
	now := s.clock()
	events, err := fn(ctx, tx, inc, now)
	if err != nil {
		return nil, err
	}
	if len(events) > 0 {
		inc.UpdatedAt = now
		if err := tx.UpdateIncident(ctx, inc); err != nil {
			return nil, err
		}
		inc.Version++
	}
	for i := range events {
		ev := &events[i]
		ev.IncidentID, ev.ActorUserID, ev.Actor = inc.ID, p.UserIDPtr(), actor
		ev.Data = withVia(ev.Data, p.Via)
		if ev.OccurredAt.IsZero() {
			ev.OccurredAt = now
		}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return nil, err
		}
	}
	return inc, nil
}

// UpdateInTx is Update inside the caller's transaction, without a version
// check: the change and its timeline events commit or roll back with
// whatever else the caller writes there. actor names who acts on the
// timeline ("playbook ransomware"); p decides what is allowed (a playbook
// acts as access.System).
func (s *Service) UpdateInTx(ctx context.Context, tx Tx, p access.Principal, actor, idOrRef string, patch Patch) (*Incident, error) {
	return s.mutateIn(ctx, tx, p, actor, idOrRef, nil, access.UpdateIncident, s.update(p, patch))
}

// TransitionInTx is Transition inside the caller's transaction, like
// UpdateInTx.
func (s *Service) TransitionInTx(ctx context.Context, tx Tx, p access.Principal, actor, idOrRef string, to Stage, reason string) (*Incident, error) {
	return s.mutateIn(ctx, tx, p, actor, idOrRef, nil, access.TransitionIncident, transition(to, reason))
}

// Update applies a merge patch. Every changed field becomes one timeline
// event with its old and new value. ifMatch is the version the client read
// (If-Match); a stale one is apperr.Precondition with the current version.
func (s *Service) Update(ctx context.Context, p access.Principal, idOrRef string, patch Patch, ifMatch *int64) (*Incident, error) {
	return s.mutate(ctx, p, idOrRef, ifMatch, access.UpdateIncident, s.update(p, patch))
}

// update is the change of Update.
func (s *Service) update(p access.Principal, patch Patch) func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error) {
	return func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error) {
		var fs apperr.Fields
		var changes []change
		set := func(field string, old, new any, apply func()) {
			if !equal(old, new) {
				changes = append(changes, change{field, old, new})
				apply()
			}
		}
		if v := patch.Title; v != nil {
			checkTitle(*v, &fs)
			set("title", inc.Title, *v, func() { inc.Title = *v })
		}
		if v := patch.Description; v != nil {
			checkDescription(*v, &fs)
			set("description", inc.Description, *v, func() { inc.Description = *v; s.render(inc) })
		}
		if v := patch.Severity; v != nil {
			if !v.Valid() {
				fs.Add("severity", "enum", "severity must be one of: %s", list(Severities))
			}
			set("severity", inc.Severity, *v, func() { inc.Severity = *v })
		}
		raisedToRed := false
		if v := patch.TLP; v != nil {
			t, ok := ParseTLP(string(*v))
			if !ok {
				fs.Add("tlp", "enum", "tlp must be one of: %s", list(TLPs))
			}
			raisedToRed = ok && t == TLPRed && inc.TLP != TLPRed
			set("tlp", inc.TLP, t, func() { inc.TLP = t })
		}
		if v := patch.PAP; v != nil {
			pap, ok := ParsePAP(string(*v))
			if !ok {
				fs.Add("pap", "enum", "%s", PAPRuleMessage("pap"))
			}
			set("pap", inc.PAP, pap, func() { inc.PAP = pap })
		}
		if patch.Category != nil || patch.Type != nil {
			cat, typ := inc.Category, inc.Type
			if patch.Category != nil {
				cat = *patch.Category
				if patch.Type == nil && cat != inc.Category {
					typ = "" // a new category clears a type of the old one
				}
			}
			if patch.Type != nil {
				typ = *patch.Type
			}
			cat, typ = checkClassification(cat, typ, &fs)
			set("category", inc.Category, cat, func() { inc.Category = cat })
			set("type", inc.Type, typ, func() { inc.Type = typ })
		}
		if patch.DetectedAt != nil || patch.ClearDetectedAt {
			if patch.DetectedAt != nil && patch.DetectedAt.After(now.Add(5*time.Minute)) {
				fs.Add("detected_at", "not_future", "detected_at must not be in the future")
			}
			set("detected_at", inc.DetectedAt, patch.DetectedAt, func() { inc.DetectedAt = utcPtr(patch.DetectedAt) })
		}
		if v := patch.Tags; v != nil {
			tags := normalizeTags(*v, &fs)
			set("tags", inc.Tags, tags, func() { inc.Tags = tags })
		}
		if v := patch.Assets; v != nil {
			as := checkAssets(*v, &fs)
			set("affected_assets", assetsView(inc.Assets), assetsView(as), func() { inc.Assets = as })
		}
		if v := patch.PersonalDataBreach; v != nil {
			set("personal_data_breach", inc.PersonalDataBreach, *v, func() { inc.PersonalDataBreach = *v })
		}
		if v := patch.Significant; v != nil {
			set("significant", inc.Significant, *v, func() { inc.Significant = *v })
		}
		if patch.AffectedPeople != nil || patch.ClearAffectedPeople {
			checkAffectedPeople(patch.AffectedPeople, &fs)
			n := patch.AffectedPeople
			if patch.ClearAffectedPeople {
				n = nil
			}
			set("affected_people", inc.AffectedPeople, n, func() { inc.AffectedPeople = int64Ptr(n) })
		}
		summarised := applySummary(inc, patch.Summary, p.Name(), now, &fs)
		var assigned *Event
		if v := patch.Assignee; v != nil {
			ev, err := s.assign(ctx, tx, p, inc, strings.TrimSpace(*v), &fs)
			if err != nil {
				return nil, err
			}
			assigned = ev
		}
		var teamAssigned *Event
		if v := patch.AssigneeTeam; v != nil {
			ev, err := s.assignTeam(ctx, tx, p, inc, strings.TrimSpace(*v), &fs)
			if err != nil {
				return nil, err
			}
			teamAssigned = ev
		}
		if err := fs.Err(); err != nil {
			return nil, err
		}
		var events []Event
		for _, c := range changes {
			events = append(events, Event{Kind: EventFieldChanged, Data: mustJSON(map[string]any{"field": c.field, "old": c.old, "new": c.new})})
		}
		if summarised != nil {
			events = append(events, *summarised)
		}
		if assigned != nil {
			events = append(events, *assigned)
		}
		if teamAssigned != nil {
			events = append(events, *teamAssigned)
		}
		if raisedToRed {
			evs, err := s.reachRed(ctx, tx, p, inc)
			if err != nil {
				return nil, err
			}
			events = append(events, evs...)
		}
		return events, nil
	}
}

// reachRed keeps an incident just raised to TLP:RED as reachable as one
// reported TLP:RED: the coordinating organisation's TLP:RED recipients
// (nameRedRecipients) and the user who raised it become named
// participants. Before routing there is no coordinating organisation yet;
// Route names its recipients then.
func (s *Service) reachRed(ctx context.Context, tx Tx, p access.Principal, inc *Incident) ([]Event, error) {
	var events []Event
	if inc.CoordinatingOrgID != nil {
		chain, err := tx.OrgChain(ctx, *inc.CoordinatingOrgID)
		if err != nil {
			return nil, err
		}
		_, evs, err := s.nameRedRecipients(ctx, tx, p, inc, chain[0], "raised to TLP:RED")
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	if uid := p.UserIDPtr(); uid != nil {
		added, err := tx.InsertParticipant(ctx, inc.ID, *uid, uid)
		if err != nil {
			return nil, err
		}
		if added {
			data := map[string]any{"user": p.Email, "reason": "raised the incident to TLP:RED"}
			if err := tx.Audit(ctx, auditEntry(p, audit.ParticipantAdd, inc, data)); err != nil {
				return nil, err
			}
			events = append(events, Event{Kind: EventParticipantAdded, Data: mustJSON(data)})
		}
	}
	return events, nil
}

// assign sets the assignee: a user who can see the incident. The assignee
// becomes a named participant.
func (s *Service) assign(ctx context.Context, tx Tx, p access.Principal, inc *Incident, email string, fs *apperr.Fields) (*Event, error) {
	if email == "" {
		if inc.AssigneeID == nil {
			return nil, nil
		}
		old := inc.AssigneeEmail
		inc.AssigneeID, inc.AssigneeEmail = nil, ""
		return &Event{Kind: EventAssigned, Data: mustJSON(map[string]any{"old": old, "new": nil})}, nil
	}
	if !fs.Text("assignee", email, 254) {
		return nil, nil
	}
	uid, err := tx.UserIDByEmail(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		fs.Add("assignee", "exists", "no user has this e-mail")
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if inc.AssigneeID != nil && *inc.AssigneeID == uid {
		return nil, nil
	}
	visible, err := tx.CanSee(ctx, uid, inc.ID)
	if err != nil {
		return nil, err
	}
	if !visible {
		fs.Add("assignee", "visibility", "the assignee must be a user who can see the incident (for TLP:RED, a named participant)")
		return nil, nil
	}
	added, err := tx.InsertParticipant(ctx, inc.ID, uid, p.UserIDPtr())
	if err != nil {
		return nil, err
	}
	if added { // being assigned makes the user a named participant: recorded like any other grant
		data := map[string]any{"user": email, "reason": "assigned"}
		if err := tx.AppendEvent(ctx, &Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
			Kind: EventParticipantAdded, Data: mustJSON(data), OccurredAt: s.clock()}); err != nil {
			return nil, err
		}
		if err := tx.Audit(ctx, auditEntry(p, audit.ParticipantAdd, inc, data)); err != nil {
			return nil, err
		}
	}
	old := inc.AssigneeEmail
	inc.AssigneeID, inc.AssigneeEmail = &uid, email
	return &Event{Kind: EventAssigned, Data: mustJSON(map[string]any{"old": nilIfEmpty(old), "new": email})}, nil
}

// assignTeam sets the incident's team: a team of p's organisation (any
// other, or none by that ID, is "exists": another organisation's teams are
// not revealed), whose organisation sees the incident as a whole
// ("visibility": never TLP:RED, and TLP:AMBER+STRICT only inside its
// circle). "" removes the team.
func (s *Service) assignTeam(ctx context.Context, tx Tx, p access.Principal, inc *Incident, id string, fs *apperr.Fields) (*Event, error) {
	if id == "" {
		if inc.AssigneeTeamID == nil {
			return nil, nil
		}
		old := inc.AssigneeTeamName
		inc.AssigneeTeamID, inc.AssigneeTeamName = nil, ""
		return &Event{Kind: EventTeamAssigned, Data: mustJSON(map[string]any{"old": nilIfEmpty(old), "new": nil, "team_id": nil})}, nil
	}
	tid, err := uuid.Parse(id)
	var team *TeamRef
	if err == nil {
		team, err = tx.TeamRef(ctx, tid)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
	}
	if err != nil || (!p.System && team.OrgID != p.OrgID) {
		fs.Add("assignee_team", "exists", "no team of your organisation has this ID")
		return nil, nil
	}
	if inc.AssigneeTeamID != nil && *inc.AssigneeTeamID == team.ID {
		return nil, nil
	}
	sees, err := tx.OrgCanSee(ctx, team.OrgID, inc.ID)
	if err != nil {
		return nil, err
	}
	if !sees {
		fs.Add("assignee_team", "visibility", "the team's organisation must see the incident as a whole (a %s incident is assigned to a person)", inc.TLP)
		return nil, nil
	}
	old := inc.AssigneeTeamName
	inc.AssigneeTeamID, inc.AssigneeTeamName = &team.ID, team.Name
	return &Event{Kind: EventTeamAssigned, Data: mustJSON(map[string]any{"old": nilIfEmpty(old), "new": team.Name, "team_id": team.ID})}, nil
}

// Transition moves the incident to another stage.
func (s *Service) Transition(ctx context.Context, p access.Principal, idOrRef string, to Stage, reason string, ifMatch *int64) (*Incident, error) {
	return s.mutate(ctx, p, idOrRef, ifMatch, access.TransitionIncident, transition(to, reason))
}

// transition is the change of Transition.
func transition(to Stage, reason string) func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error) {
	return func(_ context.Context, _ Tx, inc *Incident, _ time.Time) ([]Event, error) {
		var fs apperr.Fields
		if !fs.Text("reason", reason, 2000) {
			return nil, fs.Err()
		}
		if err := CheckTransition(inc.Stage, inc.Status, to, reason); err != nil {
			return nil, err
		}
		from := inc.Stage
		inc.Stage = to
		return []Event{{Kind: EventStageChanged, Data: mustJSON(map[string]any{"from": from, "to": to, "reason": reason,
			"direction": direction(from, to)})}}, nil
	}
}

func direction(from, to Stage) string {
	if to.Index() < from.Index() {
		return "back"
	}
	return "forward"
}

// Close closes the incident with a resolution summary; its stage stays.
func (s *Service) Close(ctx context.Context, p access.Principal, idOrRef, resolution string, ifMatch *int64) (*Incident, error) {
	return s.mutate(ctx, p, idOrRef, ifMatch, access.TransitionIncident, func(_ context.Context, _ Tx, inc *Incident, now time.Time) ([]Event, error) {
		resolution = strings.TrimSpace(resolution)
		var fs apperr.Fields
		if resolution == "" {
			fs.Add("resolution", "required", "closing needs a resolution summary")
		} else {
			fs.Text("resolution", resolution, 20000)
		}
		if err := fs.Err(); err != nil {
			return nil, err
		}
		if inc.Status == Closed {
			return nil, apperr.New(apperr.Conflict, "the incident is already closed")
		}
		inc.Status, inc.ClosedAt, inc.Resolution = Closed, &now, resolution
		return []Event{{Kind: EventClosed, Data: mustJSON(map[string]any{"resolution": resolution, "stage": inc.Stage})}}, nil
	})
}

// Reopen opens a closed incident again; the reason is recorded.
func (s *Service) Reopen(ctx context.Context, p access.Principal, idOrRef, reason string, ifMatch *int64) (*Incident, error) {
	return s.mutate(ctx, p, idOrRef, ifMatch, access.TransitionIncident, func(_ context.Context, _ Tx, inc *Incident, _ time.Time) ([]Event, error) {
		var fs apperr.Fields
		if strings.TrimSpace(reason) == "" {
			fs.Add("reason", "required", "reopening needs a reason")
		} else {
			fs.Text("reason", reason, 2000)
		}
		if err := fs.Err(); err != nil {
			return nil, err
		}
		if inc.Status == Open {
			return nil, apperr.New(apperr.Conflict, "the incident is open")
		}
		closedAt := inc.ClosedAt
		inc.Status, inc.ClosedAt = Open, nil
		return []Event{{Kind: EventReopened, Data: mustJSON(map[string]any{"reason": reason, "closed_at": closedAt})}}, nil
	})
}

// Acknowledge records that a responder has taken note of the incident. The
// first acknowledgement time is kept (it is the time-to-acknowledge); later
// ones change nothing. A closed incident that nobody acknowledged is
// apperr.Conflict: there is nothing left to take note of (the triage
// queue's bulk acknowledgement says so for an incident closed meanwhile).
func (s *Service) Acknowledge(ctx context.Context, p access.Principal, idOrRef string) (*Incident, error) {
	return s.mutate(ctx, p, idOrRef, nil, access.TransitionIncident, func(_ context.Context, _ Tx, inc *Incident, now time.Time) ([]Event, error) {
		if inc.AcknowledgedAt != nil {
			return nil, nil
		}
		if inc.Status == Closed {
			return nil, apperr.New(apperr.Conflict, "the incident was closed before anyone acknowledged it: there is nothing to acknowledge")
		}
		inc.AcknowledgedAt = &now
		return []Event{{Kind: EventAcknowledged, Data: mustJSON(map[string]any{
			"org": p.OrgSlug, "seconds_since_report": int64(now.Sub(inc.ReportedAt).Seconds())})}}, nil
	})
}

// MarkDeadlineMet records that a legal deadline was met with reference
// (what was sent). Marking it again changes nothing. FileLegalReport is
// the same use case carrying the report itself.
func (s *Service) MarkDeadlineMet(ctx context.Context, p access.Principal, idOrRef string, kind DeadlineKind, reference string) (*Incident, error) {
	return s.markDeadlineMet(ctx, p, idOrRef, kind, reference, nil, nil)
}

// markDeadlineMet records a deadline as met: with a reference to what was
// sent elsewhere (the incident.transition write), or with the legal
// report itself (filing, the incident.legal_report write; fileReport),
// which it then returns in *filed.
func (s *Service) markDeadlineMet(ctx context.Context, p access.Principal, idOrRef string, kind DeadlineKind, reference string,
	filing *Filing, filed **LegalReport) (*Incident, error) {
	action := access.TransitionIncident
	if filing != nil {
		action = access.FileLegalReport
	}
	return s.mutate(ctx, p, idOrRef, nil, action, s.metFn(p, kind, reference, filing, filed))
}

// metFn is the change markDeadlineMet makes to the locked incident.
func (s *Service) metFn(p access.Principal, kind DeadlineKind, reference string, filing *Filing, filed **LegalReport) func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error) {
	return func(ctx context.Context, tx Tx, inc *Incident, now time.Time) ([]Event, error) {
		if !slices.Contains(DeadlineKinds, kind) {
			return nil, apperr.Fields{{Field: "kind", Rule: "enum", Message: "kind must be one of: " + list(DeadlineKinds)}}.Err()
		}
		if filing != nil {
			r, evs, err := s.fileReport(ctx, tx, p, inc, kind, filing, now)
			if err == nil {
				*filed = r
			}
			return evs, err
		}
		var fs apperr.Fields
		if strings.TrimSpace(reference) == "" {
			fs.Add("reference", "required", "reference (what was sent) is required")
		} else {
			fs.Text("reference", reference, 500)
		}
		if err := fs.Err(); err != nil {
			return nil, err
		}
		if !inc.Applies(kind) {
			return nil, apperr.New(apperr.Conflict, "deadline %s does not apply: set the significant or personal_data_breach flag first", kind)
		}
		if _, ok := inc.DeadlinesMet[kind]; ok {
			return nil, nil
		}
		if err := tx.InsertDeadlineMet(ctx, inc.ID, kind, now, reference, p.UserIDPtr()); err != nil {
			return nil, err
		}
		if inc.DeadlinesMet == nil {
			inc.DeadlinesMet = map[DeadlineKind]DeadlineMet{}
		}
		inc.DeadlinesMet[kind] = DeadlineMet{At: now, Reference: reference}
		return []Event{{Kind: EventDeadlineMet, Data: mustJSON(map[string]any{"kind": kind, "reference": reference})}}, nil
	}
}

// MaxEntry bounds a manual timeline entry.
const MaxEntry = 2000

// AddEntry adds a manual timeline entry ("attacker first seen 03:12") that
// sorts by when it happened. It does not change the incident's version.
func (s *Service) AddEntry(ctx context.Context, p access.Principal, idOrRef, summary string, occurredAt *time.Time) (*Event, error) {
	var ev *Event
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.AddTimelineEntry, inc.Relations); err != nil {
			return err
		}
		now := s.clock()
		var fs apperr.Fields
		summary = strings.TrimSpace(summary)
		if summary == "" {
			fs.Add("summary", "required", "summary is required")
		} else {
			fs.Text("summary", summary, MaxEntry)
		}
		at := now
		if occurredAt != nil {
			at = occurredAt.UTC()
			if at.After(now.Add(5 * time.Minute)) {
				fs.Add("occurred_at", "not_future", "occurred_at must not be in the future")
			}
		}
		if err := fs.Err(); err != nil {
			return err
		}
		ev = &Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: EventManual,
			Data: mustJSON(map[string]any{"summary": summary}), OccurredAt: at}
		return tx.AppendEvent(ctx, ev)
	})
	return ev, err
}

// assetsView renders assets for timeline events.
func assetsView(as []Asset) []map[string]string {
	out := []map[string]string{}
	for _, a := range as {
		out = append(out, map[string]string{"name": a.Name, "kind": string(a.Kind), "criticality": string(a.Criticality)})
	}
	return out
}

func equal(a, b any) bool {
	return string(mustJSON(a)) == string(mustJSON(b))
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func int64Ptr(n *int64) *int64 {
	if n == nil {
		return nil
	}
	v := *n
	return &v
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// withVia adds "via" to an event's data object when the principal acted
// through another channel than the API (a Slack button, a slash command),
// so that the timeline shows how a change was made.
func withVia(data json.RawMessage, via string) json.RawMessage {
	if via == "" {
		return data
	}
	m := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return data // not an object: leave it as it is
		}
	}
	m["via"] = via
	return mustJSON(m)
}
