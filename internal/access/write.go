package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
)

// Relation is one way a principal relates to an incident. The relations
// are the rows of the visibility rule (docs/security.md), named the same
// way; the store computes them for the principal it reads an incident for
// (postgres.relationsOf, next to postgres.visibleTo). They do not depend
// on the incident's TLP: the TLP decides whether the incident is visible
// at all (not found), the relations what a principal who sees it may
// change.
type Relation uint8

// The relations. Their values are bits of a Relations set; the store
// computes the same bits in SQL.
const (
	// Reporting: the principal's organisation reported the incident.
	Reporting Relation = 1 << iota
	// Coordinating: the principal's organisation coordinates it.
	Coordinating
	// CERTAbove: the principal's organisation is a CERT whose constituency
	// holds the reporting organisation.
	CERTAbove
	// SharedWith: the incident was shared with the principal's
	// organisation (a share of kind "share", or the share of an escalation
	// that was returned), and it is not EscalatedTo.
	SharedWith
	// EscalatedTo: an escalation of the incident to the principal's
	// organisation is requested or accepted. For a decision on one
	// escalation it means that escalation's receiving organisation.
	EscalatedTo
	// Participant: the principal (the user) is a named participant.
	Participant
)

// AllRelations lists the relations in the order of the write table.
var AllRelations = []Relation{Reporting, Coordinating, CERTAbove, EscalatedTo, Participant, SharedWith}

var relationNames = map[Relation]string{
	Reporting:    "reporting organisation",
	Coordinating: "coordinating organisation",
	CERTAbove:    "CERT above the reporter",
	SharedWith:   "organisation shared with",
	EscalatedTo:  "organisation escalated to",
	Participant:  "named participant",
}

// String names the relation as docs/security.md does.
func (r Relation) String() string {
	if n, ok := relationNames[r]; ok {
		return n
	}
	return fmt.Sprintf("relation(%d)", uint8(r))
}

// Relations is a set of relations: a principal may hold several at once
// (a regional CERT coordinates the report of a city below it: coordinating
// organisation and CERT above; the reporting user is also a named
// participant).
type Relations uint8

// Of returns the set of rs.
func Of(rs ...Relation) Relations {
	var out Relations
	for _, r := range rs {
		out |= Relations(r)
	}
	return out
}

// Has reports whether r is in the set.
func (s Relations) Has(r Relation) bool { return s&Relations(r) != 0 }

// List returns the relations of the set in the write table's order.
func (s Relations) List() []Relation {
	var out []Relation
	for _, r := range AllRelations {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// String lists the relations ("none" for the empty set).
func (s Relations) String() string {
	if s == 0 {
		return "none"
	}
	var names []string
	for _, r := range s.List() {
		names = append(names, r.String())
	}
	return strings.Join(names, ", ")
}

// The writes to an incident. Each is a row of the write table.
const (
	// UpdateIncident changes the incident's own fields (PATCH): title,
	// description, severity, TLP, classification, flags, assignee.
	UpdateIncident Action = "incident.update"
	// AddTimelineEntry adds a manual timeline entry.
	AddTimelineEntry Action = "incident.timeline"
	// TransitionIncident changes the stage, closes, reopens, acknowledges
	// and records a legal deadline as met.
	TransitionIncident Action = "incident.transition"
	// FileLegalReport files a legal report for one of the incident's
	// deadlines (the NIS2 early warning, notification and final report, the
	// GDPR notification) with its content; the first of a kind records
	// the deadline as met. The obligation is the reporting organisation's,
	// so its reporters may; the CERTs that work the incident may file on
	// its behalf.
	FileLegalReport Action = "incident.legal_report"
	// PinEvent pins a timeline event as a key event of the incident (the
	// executive timeline and the incident report show it) and takes the
	// pin off: the work of those who keep the executive summary.
	PinEvent Action = "incident.pin"
	// CommentIncident posts a comment (editing one is for its author only).
	CommentIncident Action = "incident.comment"
	// ShareIncident shares the incident with an organisation and names
	// participants: passing it on.
	ShareIncident Action = "incident.share"
	// NameRedParticipant names a participant of a TLP:RED incident: its
	// only audience, chosen by the originator (TLP 2.0), so the reporting
	// organisation's reporters may too.
	NameRedParticipant Action = "incident.participant_red"
	// EscalateIncident asks another organisation to coordinate or assist.
	EscalateIncident Action = "incident.escalate"
	// WriteTask creates and changes tasks (completing and cancelling
	// included).
	WriteTask Action = "task.write"
	// AddObservable adds an indicator, or merges tags and the sighted flag
	// into one the incident has.
	AddObservable Action = "observable.add"
	// ChangeObservable changes an indicator's TLP, tags, note or sighted
	// flag, and removes it.
	ChangeObservable Action = "observable.change"
	// AddEvidence uploads an evidence attachment.
	AddEvidence Action = "evidence.add"
	// RunPlaybook starts a playbook by hand and cancels a run.
	RunPlaybook Action = "playbook.run"
	// ApproveStep decides a playbook approval; the step also names the
	// role that decides it (RequireApprover).
	ApproveStep Action = "playbook.approve"
	// AnswerInput fills in a playbook input step.
	AnswerInput Action = "playbook.input"
	// LinkIncident links the incident to another (related, duplicate of,
	// part of a campaign) and removes such a link; it is needed on both
	// incidents.
	LinkIncident Action = "incident.link"
	// MergeIncident merges a duplicate into a surviving incident and
	// undoes the merge; it is needed on both incidents.
	MergeIncident Action = "incident.merge"
	// DecideEscalation accepts, declines or returns an escalation: the
	// relation is to that escalation (EscalatedTo: its receiving
	// organisation).
	DecideEscalation Action = "escalation.decide"
)

// Role groups of the write table.
var (
	// authors add to their own organisation's reports.
	authors = []Role{Reporter, Responder, Coordinator, Admin}
	// workers work incidents.
	workers = []Role{Responder, Coordinator, Admin}
	// deciders accept and decline escalations.
	deciders = []Role{Coordinator, Admin}
)

// writes is the write table: for each write, the roles that may do it in
// each relation to the incident (docs/security.md, "The write table",
// shows it and says why). A relation that is missing allows no role. A
// principal may do a write when any of its relations allows its role.
var writes = map[Action]map[Relation][]Role{
	UpdateIncident: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers,
	},
	AddTimelineEntry: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers,
	},
	TransitionIncident: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	FileLegalReport: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers,
	},
	PinEvent: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	CommentIncident: {
		Reporting: authors, Coordinating: authors, CERTAbove: authors, EscalatedTo: authors, Participant: authors, SharedWith: authors,
	},
	ShareIncident: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	NameRedParticipant: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers,
	},
	EscalateIncident: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	WriteTask: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers,
	},
	AddObservable: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers, SharedWith: workers,
	},
	ChangeObservable: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers,
	},
	AddEvidence: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers,
	},
	RunPlaybook: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	ApproveStep: {
		Coordinating: Roles, // narrowed to the role the step names, and admins (RequireApprover)
	},
	AnswerInput: {
		Reporting: authors, Coordinating: workers, CERTAbove: workers, EscalatedTo: workers, Participant: workers,
	},
	DecideEscalation: {
		EscalatedTo: deciders,
	},
	LinkIncident: {
		Reporting: workers, Coordinating: workers, CERTAbove: workers,
	},
	MergeIncident: {
		Coordinating: workers, CERTAbove: workers,
	},
}

// Writes lists the writes of the write table, sorted.
func Writes() []Action {
	out := make([]Action, 0, len(writes))
	for a := range writes {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// WriteRoles returns the roles that may do the write a in relation r (nil:
// none; an action that is not a write: none).
func WriteRoles(a Action, r Relation) []Role { return slices.Clone(writes[a][r]) }

// MayWrite reports whether p, holding rels to an incident it sees, may do
// the write a. System may do every write.
func (p Principal) MayWrite(a Action, rels Relations) bool {
	if p.System {
		return true
	}
	for r, roles := range writes[a] {
		if rels.Has(r) && slices.Contains(roles, p.Role) {
			return true
		}
	}
	return false
}

// RequireWrite returns apperr.Forbidden unless p, holding rels to an
// incident it sees, may do the write a. The message says whether the role
// may never do it or which relations would allow it.
func (p Principal) RequireWrite(a Action, rels Relations) error {
	if p.MayWrite(a, rels) {
		return nil
	}
	if _, ok := writes[a]; !ok {
		return apperr.New(apperr.Forbidden, "%s is not a write of the write table", a)
	}
	var allowed []string
	for _, r := range AllRelations {
		if slices.Contains(writes[a][r], p.Role) {
			allowed = append(allowed, r.String())
		}
	}
	if len(allowed) == 0 {
		return apperr.New(apperr.Forbidden, "your role (%s) may not do %s", p.Role, a)
	}
	return apperr.New(apperr.Forbidden, "a %s may do %s on an incident only as its %s; your relation to this incident: %s",
		p.Role, a, orList(allowed), rels)
}

// RequireApprover returns apperr.Forbidden unless p may decide a playbook
// approval step that names stepRole, on an incident p holds rels to: the
// write table's ApproveStep (the coordinating organisation), and the
// step's role or an admin.
func (p Principal) RequireApprover(rels Relations, stepRole Role, stepID string) error {
	if err := p.RequireWrite(ApproveStep, rels); err != nil {
		return err
	}
	if p.System || p.Role == stepRole || p.Role == Admin {
		return nil
	}
	return apperr.New(apperr.Forbidden, "only a %s (or an admin) of the coordinating organisation may decide step %s", stepRole, stepID)
}

// orList joins names with commas and a final "or".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
