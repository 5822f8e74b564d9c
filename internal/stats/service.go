package stats

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Store reads the metrics.
type Store interface {
	// InStatsSnapshot runs fn on one consistent, read-only snapshot of the
	// database, so that the figures of one answer agree with each other.
	InStatsSnapshot(ctx context.Context, fn func(ctx context.Context, r Reader) error) error
}

// Reader reads on a snapshot. Every method that takes a principal returns
// only what the visibility rule lets it see.
type Reader interface {
	// ViewerOrg returns the viewer's organisation.
	ViewerOrg(ctx context.Context, orgID uuid.UUID) (OrgLabel, error)
	// RollupCells returns the roll-up rows of an organisation on the days
	// [from, to) and of Snapshot: totals and the deltas not folded into
	// them yet, several rows of a key to be summed.
	RollupCells(ctx context.Context, orgID uuid.UUID, from, to time.Time) ([]Cell, error)
	// ExtraFacts returns the facts of the incidents p sees that are not in
	// its organisation's roll-up: those it sees as a named participant, or
	// through a share or an escalation, and whose audience does not hold
	// its organisation.
	ExtraFacts(ctx context.Context, p access.Principal) ([]*Facts, error)
	// UnmetDue returns the unmet legal deadlines, of incidents p sees, due
	// in [from, to).
	UnmetDue(ctx context.Context, p access.Principal, from, to time.Time) ([]UnmetDeadline, error)
	// OldestOpen returns the open incidents p sees, oldest report first.
	OldestOpen(ctx context.Context, p access.Principal, limit int) ([]OpenIncident, error)
	// Escalations returns the escalations of incidents p sees requested in
	// [from, to).
	Escalations(ctx context.Context, p access.Principal, from, to time.Time) ([]EscalationFact, error)
	// Orgs returns organisations by ID.
	Orgs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]OrgLabel, error)
}

// OrgLabel names an organisation.
type OrgLabel struct {
	ID       uuid.UUID
	Slug     string
	Name     string
	Kind     string
	TimeZone string
}

// UnmetDeadline is a legal deadline not met yet.
type UnmetDeadline struct {
	IncidentID uuid.UUID
	Kind       incident.DeadlineKind
	DueAt      time.Time
}

// OpenIncident is one of the oldest open incidents.
type OpenIncident struct {
	ID               uuid.UUID
	Reference        string
	Title            string
	Stage            incident.Stage
	Severity         incident.Severity
	TLP              incident.TLP
	Significant      bool
	ReportingOrg     string // slug
	ReportingOrgName string
	ReportedAt       time.Time
	AcknowledgedAt   *time.Time
}

// EscalationFact is one escalation as the matrix counts it.
type EscalationFact struct {
	FromOrgID, ToOrgID uuid.UUID
	State              string // requested, accepted, declined, returned, cancelled
	RequestedAt        time.Time
	DecidedAt          *time.Time
}

// Service holds the metrics' use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service; now is the clock (nil: time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Query asks for the figures of a period.
type Query struct {
	Period PeriodInput
	// Group is the width of time series buckets: day, week, month, or ""
	// for one that suits the period.
	Group string
	// OldestLimit is how many of the oldest open incidents to list
	// (default 10, at most 100).
	OldestLimit int
}

// viewerOf checks that p is a person of an organisation: the metrics are
// always some viewer's.
func viewerOf(p access.Principal) error {
	if p.System || p.UserID == uuid.Nil || p.OrgID == uuid.Nil {
		return apperr.New(apperr.Forbidden, "the metrics are computed for a person of an organisation")
	}
	return p.Require(access.ReadIncident)
}
