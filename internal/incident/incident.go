// Package incident is the incident case record: its fields, its lifecycle,
// its timeline, and the use cases that change them.
package incident

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// Incident is one case.
type Incident struct {
	ID                  uuid.UUID
	Reference           string
	Title               string
	Description         string
	ReportingOrgID      uuid.UUID
	CoordinatingOrgID   *uuid.UUID
	ReporterUserID      *uuid.UUID
	AssigneeID          *uuid.UUID
	Stage               Stage
	Status              Status
	Severity            Severity
	TLP                 TLP
	DetectedAt          *time.Time
	ReportedAt          time.Time
	AcknowledgedAt      *time.Time
	ClosedAt            *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Version             int64
	ReportingOrgSlug    string // filled on reads
	CoordinatingOrgSlug string // filled on reads; empty while unrouted
}

// EventKind names a kind of timeline event.
type EventKind string

// The timeline event kinds.
const (
	EventCreated          EventKind = "created"
	EventRouted           EventKind = "routed"
	EventShared           EventKind = "shared"
	EventParticipantAdded EventKind = "participant_added"
)

// Event is one timeline entry. Events are never changed or deleted.
type Event struct {
	ID          int64
	IncidentID  uuid.UUID
	ActorUserID *uuid.UUID
	Actor       string // who did it, for people: a user's e-mail or "certdesk"
	Kind        EventKind
	Data        json.RawMessage
	OccurredAt  time.Time
	RecordedAt  time.Time
}

// Limits on field sizes.
const (
	MaxTitle       = 200
	MaxDescription = 100_000
)

// NewIncident is the input of Create. The reporting organisation and user
// are the caller's.
type NewIncident struct {
	Title       string
	Description string
	Stage       Stage
	Severity    Severity
	TLP         TLP
	DetectedAt  *time.Time
}

// Validate checks the input and names every field that breaks a rule.
// Empty stage, severity and TLP take defaults (response, medium, TLP:AMBER).
func (n *NewIncident) Validate(now time.Time) error {
	var fs apperr.Fields
	switch l := utf8.RuneCountInString(n.Title); {
	case l == 0:
		fs.Add("title", "required", "title is required")
	case l > MaxTitle:
		fs.Add("title", "max_length", "title must be at most %d characters", MaxTitle)
	}
	if !utf8.ValidString(n.Title) {
		fs.Add("title", "utf8", "title must be valid UTF-8")
	}
	if !utf8.ValidString(n.Description) {
		fs.Add("description", "utf8", "description must be valid UTF-8")
	}
	if utf8.RuneCountInString(n.Description) > MaxDescription {
		fs.Add("description", "max_length", "description must be at most %d characters", MaxDescription)
	}
	if n.Stage == "" {
		n.Stage = Response
	}
	if !n.Stage.Valid() {
		fs.Add("stage", "enum", "stage must be one of: %s", list(Stages))
	}
	if n.Severity == "" {
		n.Severity = Medium
	}
	if !n.Severity.Valid() {
		fs.Add("severity", "enum", "severity must be one of: %s", list(Severities))
	}
	if n.TLP == "" {
		n.TLP = TLPAmber
	}
	if t, ok := ParseTLP(string(n.TLP)); ok {
		n.TLP = t
	} else {
		fs.Add("tlp", "enum", "tlp must be one of: %s", list(TLPs))
	}
	if n.DetectedAt != nil && n.DetectedAt.After(now.Add(5*time.Minute)) {
		fs.Add("detected_at", "not_future", "detected_at must not be in the future")
	}
	return fs.Err()
}
