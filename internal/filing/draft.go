package filing

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
)

// KindIncident is the kind of a draft of the guided report; a draft of a
// legal report has its deadline's kind.
const KindIncident = "incident"

// Draft is a report being written: the answers given so far, saved after
// every step, which every user of its organisation who may report sees
// and may continue.
type Draft struct {
	ID    uuid.UUID
	OrgID uuid.UUID
	// Kind is KindIncident, or the deadline kind of a legal report.
	Kind string
	// IncidentID is a legal report's incident, or the incident a sent
	// guided report created.
	IncidentID *uuid.UUID
	Answers    Answers
	// Done lists the steps answered (Continue pressed with no error).
	Done []string
	// Files are the files uploaded for the report (the guided report's
	// files step), already in the blob store.
	Files         []evidence.Staged
	LastStep      string
	CreatedByID   uuid.UUID
	CreatedByName string // the name, else the e-mail address (filled on reads)
	CreatedAt     time.Time
	UpdatedByID   uuid.UUID
	UpdatedByName string
	UpdatedAt     time.Time
	SubmittedAt   *time.Time
}

// Content is what a draft's answers column holds.
type Content struct {
	Answers Answers           `json:"answers"`
	Done    []string          `json:"done,omitempty"`
	Files   []evidence.Staged `json:"files,omitempty"`
}

// Report is the structured report kept with an incident created by the
// guided report: every question as it was asked, in the reporter's
// language, and the answer; and the answers as values.
type Report struct {
	IncidentID      uuid.UUID
	Reference       string // filled on reads
	DraftID         uuid.UUID
	Language        string
	Items           []incident.ReportItem
	Answers         Answers
	PeopleAffected  *int64
	RecordsAffected *int64
	SubmittedByID   *uuid.UUID
	SubmittedByName string // filled on reads
	SubmittedAt     time.Time
}

// Store is the persistence of drafts and structured reports. Reads take
// the principal they read for: a draft of another organisation, and the
// report of an incident the principal may not see, are apperr.NotFound.
type Store interface {
	// InReportTx runs fn in one database transaction.
	InReportTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// OpenDrafts returns the guided reports of org not sent yet, last
	// saved first, at most limit.
	OpenDrafts(ctx context.Context, orgID uuid.UUID, limit int) ([]Draft, error)
	// Draft returns a draft of org.
	Draft(ctx context.Context, orgID, id uuid.UUID) (*Draft, error)
	// LegalDraft returns the open draft of a legal report of an incident,
	// apperr.NotFound when there is none.
	LegalDraft(ctx context.Context, incidentID uuid.UUID, kind string) (*Draft, error)
	// Report returns the structured report of an incident p may see.
	Report(ctx context.Context, p access.Principal, incidentID uuid.UUID) (*Report, error)
}

// Tx is what the report use cases do inside a transaction: their own
// writes, and those of the incident, evidence and observable use cases
// that sending a report runs in the same transaction (the one
// transaction of the postgres store implements them all).
type Tx interface {
	incident.Tx
	evidence.Tx
	observable.Tx
	// InsertDraft records a new draft.
	InsertDraft(ctx context.Context, d *Draft) error
	// LockDraft reads a draft of org and locks it until the end of the
	// transaction.
	LockDraft(ctx context.Context, orgID, id uuid.UUID) (*Draft, error)
	// LockLegalDraft reads the open draft of a legal report of an incident
	// and locks it; apperr.NotFound when there is none.
	LockLegalDraft(ctx context.Context, incidentID uuid.UUID, kind string) (*Draft, error)
	// UpdateDraft writes a draft's content, last step, and who saved it when.
	UpdateDraft(ctx context.Context, d *Draft) error
	// SubmitDraft marks a draft sent (with the incident it created, for a
	// guided report).
	SubmitDraft(ctx context.Context, id uuid.UUID, incidentID *uuid.UUID, at time.Time) error
	// DeleteDraft removes a draft that was not sent.
	DeleteDraft(ctx context.Context, id uuid.UUID) error
	// InsertReport records the structured report of an incident.
	InsertReport(ctx context.Context, r *Report) error
}
