// Package audit defines entries of the append-only audit log: who did what
// to which target, when, and from which address. Entries are written in the
// same transaction as the change they record. Failed authentications,
// which change nothing, are counted per client address and minute
// (internal/throttle) and written as one entry per address and minute once
// the minute has ended.
package audit

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Action names what happened.
type Action string

// The audited actions.
const (
	AuthFailed     Action = "auth.failed"
	TokenCreated   Action = "token.created"
	TokenRevoked   Action = "token.revoked"
	UserCreated    Action = "user.created"
	UserChanged    Action = "user.changed" // role, name, disabled, password
	OrgCreated     Action = "org.created"
	OrgChanged     Action = "org.changed"
	IncidentShared Action = "incident.shared"
	ParticipantAdd Action = "incident.participant_added"
	// RedRecipientsSet: an organisation's TLP:RED recipients were set.
	RedRecipientsSet Action = "org.red_recipients_set"
	// ShareEnded, ParticipantRemoved and StrictCircleJoined record changes
	// of an incident's circle (docs/security.md, "When the TLP tightens or
	// a share ends").
	ShareEnded         Action = "incident.share_ended"
	ParticipantRemoved Action = "incident.participant_removed"
	StrictCircleJoined Action = "incident.strict_circle_joined"
	// EventPinned and EventUnpinned: a timeline event was pinned as a key
	// event of the incident, or its pin taken off.
	EventPinned   Action = "incident.event_pinned"
	EventUnpinned Action = "incident.event_unpinned"
)

// The actions of password reset links.
const (
	// ResetLinkIssued: a one-time password reset link was issued for the
	// user (never the link itself).
	ResetLinkIssued Action = "user.reset_link_issued"
	// PasswordReset: the user set their password with a reset link.
	PasswordReset Action = "user.password_reset"
)

// The actions of teams (a CERT's users grouped for assignment).
const (
	TeamCreated       Action = "team.created"
	TeamRenamed       Action = "team.renamed"
	TeamDeleted       Action = "team.deleted"
	TeamMemberAdded   Action = "team.member_added"
	TeamMemberRemoved Action = "team.member_removed"
)

// JobsOperated: an administrator changed the background job queue through
// River's web UI (/admin/jobs): retried, cancelled or deleted jobs, paused,
// resumed or changed a queue. Data holds the method, the path and the
// answer's status; the target is the path.
const JobsOperated Action = "jobs.operated"

// Entry is one audit record.
type Entry struct {
	ID          int64
	At          time.Time
	ActorUserID *uuid.UUID
	Actor       string // e-mail, "certdesk", or "anonymous" for failed authentication
	Action      Action
	TargetType  string
	TargetID    string
	RemoteAddr  string
	Data        json.RawMessage
}
