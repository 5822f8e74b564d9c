// Package incident is the incident case record: its fields, its lifecycle,
// its timeline, and the use cases that change them.
package incident

import (
	"encoding/json"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// Incident is one case.
type Incident struct {
	ID                     uuid.UUID
	Reference              string
	Title                  string
	Description            string
	DescriptionHTML        string // sanitised HTML of Description, from the service's Renderer
	DescriptionHTMLVersion int
	ReportingOrgID         uuid.UUID
	CoordinatingOrgID      *uuid.UUID
	ReporterUserID         *uuid.UUID
	AssigneeID             *uuid.UUID
	// AssigneeTeamID is the team the incident is assigned to (a team of
	// the organisation that assigned it); with no AssigneeID it is the
	// team's unclaimed item.
	AssigneeTeamID *uuid.UUID
	Stage          Stage
	Status         Status
	Severity       Severity
	TLP            TLP
	// PAP is the Permissible Actions Protocol label: what recipients may
	// do with the incident's information (DefaultPAP when not given).
	PAP                PAP
	DetectedAt         *time.Time
	ReportedAt         time.Time
	AcknowledgedAt     *time.Time
	ClosedAt           *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Version            int64
	Category           string // RSIT class, e.g. "malicious-code"
	Type               string // RSIT type within the category, e.g. "infected-system"
	Tags               []string
	Assets             []Asset
	PersonalDataBreach bool
	Significant        bool
	// AffectedPeople is how many people a personal-data breach affects
	// (GDPR Art. 33(3)(a)); nil while unknown.
	AffectedPeople *int64
	// Summary is the executive summary the coordinator keeps current.
	Summary              Summary
	Resolution           string
	DeadlinesMet         map[DeadlineKind]DeadlineMet
	ReportingOrgTimeZone string // filled on reads; legal calendar deadlines use it
	AssigneeEmail        string // filled on reads
	ReportingOrgSlug     string // filled on reads
	CoordinatingOrgSlug  string // filled on reads; empty while unrouted
	AssigneeTeamName     string // filled on reads; empty without a team
	// NextDeadlineAt is the earliest open deadline: a legal deadline not
	// met yet (NextLegalDeadline) or a scheduled escalation-policy timer,
	// whichever comes first; nil when there is none. The store keeps it in
	// the transaction of every change that moves one; filled on reads.
	NextDeadlineAt *time.Time
	// Relations are the relations to the incident of the principal it was
	// read for (access.Relations): filled by the single reads and the
	// locked read every write begins with, empty in lists and for System.
	// The write table (access.Principal.RequireWrite) decides with them.
	Relations access.Relations
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
	// Filled on timeline reads: the acting user's name and organisation
	// (empty for certdesk itself and for users since removed).
	ActorName    string
	ActorOrgName string
	ActorOrgSlug string
	// Pinned: the event is pinned as a key event (Service.Pin).
	Pinned bool
}

// Limits on field sizes.
const (
	MaxTitle       = 200
	MaxDescription = 100_000
)

// NewIncident is the input of Create. The reporting organisation and user
// are the caller's.
type NewIncident struct {
	Title              string
	Description        string
	Stage              Stage
	Severity           Severity
	TLP                TLP
	PAP                PAP
	DetectedAt         *time.Time
	Category           string
	Type               string
	Tags               []string
	Assets             []Asset
	PersonalDataBreach bool
	Significant        bool
	AffectedPeople     *int64 // nil: unknown
}

// Validate checks the input and names every field that breaks a rule.
// Empty stage, severity, TLP and PAP take defaults (response, medium,
// TLP:AMBER, PAP:AMBER);
// tags are normalised.
func (n *NewIncident) Validate(now time.Time) error {
	var fs apperr.Fields
	checkTitle(n.Title, &fs)
	checkDescription(n.Description, &fs)
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
	if n.PAP == "" {
		n.PAP = DefaultPAP
	}
	if p, ok := ParsePAP(string(n.PAP)); ok {
		n.PAP = p
	} else {
		fs.Add("pap", "enum", "%s", PAPRuleMessage("pap"))
	}
	if n.DetectedAt != nil && n.DetectedAt.After(now.Add(5*time.Minute)) {
		fs.Add("detected_at", "not_future", "detected_at must not be in the future")
	}
	n.Category, n.Type = checkClassification(n.Category, n.Type, &fs)
	n.Tags = normalizeTags(n.Tags, &fs)
	n.Assets = checkAssets(n.Assets, &fs)
	checkAffectedPeople(n.AffectedPeople, &fs)
	return fs.Err()
}
