// Package linking links incidents to each other (related, duplicate of,
// part of a campaign), merges a duplicate into a surviving incident and
// undoes such a merge within a day, suggests duplicates of a new report,
// and groups the incidents that share observables into campaigns.
//
// Everything it reads goes through the visibility rule: a link is shown
// only to a principal who sees both of its incidents, and an incident the
// principal may not see is apperr.NotFound with the same message as one
// that does not exist (docs/security.md, "Links and merges").
package linking

import (
	"time"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Kind is the kind of a link, read from its first incident: "A is related
// to B", "A is a duplicate of B", "A is part of (the campaign) B".
type Kind string

// The kinds of link.
const (
	Related     Kind = "related"
	DuplicateOf Kind = "duplicate_of"
	PartOf      Kind = "part_of"
)

// Kinds lists the kinds of link.
var Kinds = []Kind{Related, DuplicateOf, PartOf}

// Valid reports whether k is a kind of link.
func (k Kind) Valid() bool { return k == Related || k == DuplicateOf || k == PartOf }

// Direction says which end of a link the incident it is listed for is.
type Direction string

// The directions: outgoing when the incident is the link's first incident
// (it is the duplicate), incoming when it is the second (it has the
// duplicate).
const (
	Outgoing Direction = "outgoing"
	Incoming Direction = "incoming"
)

// Other is the incident at the other end of a link, as much as a link list
// shows of it.
type Other struct {
	ID        uuid.UUID
	Reference string
	Title     string
	Stage     incident.Stage
	Status    incident.Status
	TLP       incident.TLP
}

// Link is a link as seen from one of its incidents.
type Link struct {
	ID        uuid.UUID
	FromID    uuid.UUID
	ToID      uuid.UUID
	Kind      Kind
	Direction Direction // from the incident it is listed for
	Other     Other     // the incident at the other end
	CreatedBy string    // the e-mail of who linked, "" when unknown
	CreatedAt time.Time
}

// Merge is a merge of a duplicate into a survivor.
type Merge struct {
	ID                 uuid.UUID
	DuplicateID        uuid.UUID
	SurvivorID         uuid.UUID
	MergedBy           *uuid.UUID
	MergedAt           time.Time
	CopiedObservables  []uuid.UUID
	LinkID             *uuid.UUID // the duplicate_of link the merge made; nil when one existed
	PreviousResolution string
	UndoneAt           *time.Time
}

// MergeStatus is what those who see a merged duplicate see of its
// survivor: its reference, stage and status, and nothing else (the rule
// of docs/security.md, "Links and merges").
type MergeStatus struct {
	MergeID        uuid.UUID
	MergedAt       time.Time
	UndoUntil      time.Time
	SurvivorID     uuid.UUID
	SurvivorRef    string
	SurvivorStage  incident.Stage
	SurvivorStatus incident.Status
	// SurvivorVisible: the principal sees the survivor itself (the page
	// may link to it).
	SurvivorVisible bool
}

// UndoWindow is how long after a merge it may be undone.
const UndoWindow = 24 * time.Hour

// The timeline events of links and merges. Their data never names the
// other incident: a link's event is on both incidents, and someone who
// sees one of them need not see the other. A merge's events are the
// exception the rule allows: the duplicate's close names the survivor.
const (
	// EventLinked: data {link_id, kind, direction}.
	EventLinked incident.EventKind = "incident_linked"
	// EventUnlinked: data {link_id, kind, direction}.
	EventUnlinked incident.EventKind = "incident_unlinked"
	// EventMergedInto (on the duplicate): data {merge_id, survivor}.
	EventMergedInto incident.EventKind = "merged_into"
	// EventMergedFrom (on the survivor): data {merge_id, observables}.
	EventMergedFrom incident.EventKind = "merged_from"
	// EventMergeUndone (on both): data {merge_id, observables}.
	EventMergeUndone incident.EventKind = "merge_undone"
)

// The audit log entries of links and merges.
const (
	AuditLinked      audit.Action = "incident.linked"
	AuditUnlinked    audit.Action = "incident.unlinked"
	AuditMerged      audit.Action = "incident.merged"
	AuditMergeUndone audit.Action = "incident.merge_undone"
)
