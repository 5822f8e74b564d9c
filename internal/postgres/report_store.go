package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var (
	_ filing.Store = (*Store)(nil)
	_ filing.Tx    = (*txn)(nil)
)

// draftRow is the report_drafts table, with the names of who started and
// who last saved the draft.
type draftRow struct {
	ID          uuid.UUID
	OrgID       uuid.UUID
	Kind        string
	IncidentID  *uuid.UUID
	Answers     []byte `gorm:"type:jsonb"`
	LastStep    string
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	UpdatedBy   uuid.UUID
	UpdatedAt   time.Time
	SubmittedAt *time.Time
	// read-only, from draftSelect
	CreatedByName string `gorm:"->"`
	UpdatedByName string `gorm:"->"`
}

func (draftRow) TableName() string { return "report_drafts" }

func (r *draftRow) domain() (*filing.Draft, error) {
	d := &filing.Draft{ID: r.ID, OrgID: r.OrgID, Kind: r.Kind, IncidentID: r.IncidentID, LastStep: r.LastStep,
		CreatedByID: r.CreatedBy, CreatedByName: r.CreatedByName, CreatedAt: r.CreatedAt.UTC(),
		UpdatedByID: r.UpdatedBy, UpdatedByName: r.UpdatedByName, UpdatedAt: r.UpdatedAt.UTC(), SubmittedAt: utcp(r.SubmittedAt)}
	var c filing.Content
	if err := json.Unmarshal(r.Answers, &c); err != nil {
		return nil, fmt.Errorf("draft %s: answers: %w", r.ID, err)
	}
	d.Answers, d.Done, d.Files = c.Answers, c.Done, c.Files
	if d.Answers == nil {
		d.Answers = filing.Answers{}
	}
	return d, nil
}

func draftContent(d *filing.Draft) ([]byte, error) {
	b, err := json.Marshal(filing.Content{Answers: d.Answers, Done: d.Done, Files: d.Files})
	if err != nil {
		return nil, fmt.Errorf("draft content: %w", err)
	}
	return b, nil
}

// draftSelect reads drafts with the names of their people (the name,
// else the e-mail address).
const draftSelect = `SELECT d.*, coalesce(nullif(cu.name, ''), cu.email) AS created_by_name,
	coalesce(nullif(uu.name, ''), uu.email) AS updated_by_name
FROM report_drafts d
JOIN users cu ON cu.id = d.created_by
JOIN users uu ON uu.id = d.updated_by
WHERE `

func drafts(ctx context.Context, db *gorm.DB, q string, args ...any) ([]filing.Draft, error) {
	var rows []draftRow
	if err := db.WithContext(ctx).Raw(draftSelect+q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load drafts")
	}
	out := make([]filing.Draft, 0, len(rows))
	for i := range rows {
		d, err := rows[i].domain()
		if err != nil {
			return nil, apperr.Wrap(err, "load drafts")
		}
		out = append(out, *d)
	}
	return out, nil
}

func oneDraft(ds []filing.Draft, err error, what string) (*filing.Draft, error) {
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, apperr.New(apperr.NotFound, "%s not found", what)
	}
	return &ds[0], nil
}

// InReportTx implements filing.Store.
func (s *Store) InReportTx(ctx context.Context, fn func(ctx context.Context, tx filing.Tx) error) error {
	return inTx(ctx, s, fn)
}

// OpenDrafts implements filing.Store.
func (s *Store) OpenDrafts(ctx context.Context, orgID uuid.UUID, limit int) ([]filing.Draft, error) {
	return drafts(ctx, s.db, "d.org_id = ? AND d.kind = ? AND d.submitted_at IS NULL ORDER BY d.updated_at DESC, d.id LIMIT ?",
		orgID, filing.KindIncident, limit)
}

// Draft implements filing.Store.
func (s *Store) Draft(ctx context.Context, orgID, id uuid.UUID) (*filing.Draft, error) {
	ds, err := drafts(ctx, s.db, "d.org_id = ? AND d.id = ?", orgID, id)
	return oneDraft(ds, err, "draft "+id.String())
}

// LegalDraft implements filing.Store.
func (s *Store) LegalDraft(ctx context.Context, incidentID uuid.UUID, kind string) (*filing.Draft, error) {
	ds, err := drafts(ctx, s.db, "d.incident_id = ? AND d.kind = ? AND d.submitted_at IS NULL", incidentID, kind)
	return oneDraft(ds, err, "draft of the "+kind)
}

// LockDraft implements filing.Tx.
func (t *txn) LockDraft(ctx context.Context, orgID, id uuid.UUID) (*filing.Draft, error) {
	ds, err := drafts(ctx, t.db, "d.org_id = ? AND d.id = ? FOR UPDATE OF d", orgID, id)
	return oneDraft(ds, err, "draft "+id.String())
}

// LockLegalDraft implements filing.Tx.
func (t *txn) LockLegalDraft(ctx context.Context, incidentID uuid.UUID, kind string) (*filing.Draft, error) {
	ds, err := drafts(ctx, t.db, "d.incident_id = ? AND d.kind = ? AND d.submitted_at IS NULL FOR UPDATE OF d", incidentID, kind)
	return oneDraft(ds, err, "draft of the "+kind)
}

// InsertDraft implements filing.Tx.
func (t *txn) InsertDraft(ctx context.Context, d *filing.Draft) error {
	content, err := draftContent(d)
	if err != nil {
		return err
	}
	row := draftRow{ID: d.ID, OrgID: d.OrgID, Kind: d.Kind, IncidentID: d.IncidentID, Answers: content, LastStep: d.LastStep,
		CreatedBy: d.CreatedByID, CreatedAt: d.CreatedAt, UpdatedBy: d.UpdatedByID, UpdatedAt: d.UpdatedAt}
	return translate(t.db.WithContext(ctx).Omit("CreatedByName", "UpdatedByName", "SubmittedAt").Create(&row).Error, "save draft")
}

// UpdateDraft implements filing.Tx.
func (t *txn) UpdateDraft(ctx context.Context, d *filing.Draft) error {
	content, err := draftContent(d)
	if err != nil {
		return err
	}
	err = t.db.WithContext(ctx).Exec(`UPDATE report_drafts SET answers = ?, last_step = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
		content, d.LastStep, d.UpdatedByID, d.UpdatedAt, d.ID).Error
	return translate(err, "save draft")
}

// SubmitDraft implements filing.Tx.
func (t *txn) SubmitDraft(ctx context.Context, id uuid.UUID, incidentID *uuid.UUID, at time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE report_drafts SET submitted_at = ?, incident_id = coalesce(?, incident_id) WHERE id = ?`,
		at, incidentID, id).Error
	return translate(err, "mark draft sent")
}

// DeleteDraft implements filing.Tx.
func (t *txn) DeleteDraft(ctx context.Context, id uuid.UUID) error {
	return translate(t.db.WithContext(ctx).Exec(`DELETE FROM report_drafts WHERE id = ? AND submitted_at IS NULL`, id).Error, "delete draft")
}

// reportRow is the incident_reports table.
type reportRow struct {
	IncidentID      uuid.UUID
	DraftID         uuid.UUID
	Language        string
	Items           []byte `gorm:"type:jsonb"`
	Answers         []byte `gorm:"type:jsonb"`
	PeopleAffected  *int64
	RecordsAffected *int64
	SubmittedBy     *uuid.UUID
	SubmittedAt     time.Time
	// read-only: the submitter's name
	SubmittedByName *string `gorm:"->"`
}

func (reportRow) TableName() string { return "incident_reports" }

// InsertReport implements filing.Tx.
func (t *txn) InsertReport(ctx context.Context, r *filing.Report) error {
	items, err := json.Marshal(r.Items)
	if err != nil {
		return fmt.Errorf("report items: %w", err)
	}
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("report answers: %w", err)
	}
	row := reportRow{IncidentID: r.IncidentID, DraftID: r.DraftID, Language: r.Language, Items: items, Answers: answers,
		PeopleAffected: r.PeopleAffected, RecordsAffected: r.RecordsAffected, SubmittedBy: r.SubmittedByID, SubmittedAt: r.SubmittedAt}
	return translate(t.db.WithContext(ctx).Omit("SubmittedByName").Create(&row).Error, "save the structured report")
}

// Report implements filing.Store.
func (s *Store) Report(ctx context.Context, p access.Principal, incidentID uuid.UUID) (*filing.Report, error) {
	vis, args := visibleTo(p)
	var rows []reportRow
	err := s.db.WithContext(ctx).Raw(`SELECT r.*, coalesce(nullif(u.name, ''), u.email) AS submitted_by_name
		FROM incident_reports r
		JOIN incidents i ON i.id = r.incident_id
		LEFT JOIN users u ON u.id = r.submitted_by
		WHERE r.incident_id = ? AND `+vis, append([]any{incidentID}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load the structured report")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "incident %s has no structured report: it was not reported through the guided report", incidentID)
	}
	row := rows[0]
	out := &filing.Report{IncidentID: row.IncidentID, DraftID: row.DraftID, Language: row.Language,
		PeopleAffected: row.PeopleAffected, RecordsAffected: row.RecordsAffected, SubmittedByID: row.SubmittedBy,
		SubmittedAt: row.SubmittedAt.UTC()}
	if row.SubmittedByName != nil {
		out.SubmittedByName = *row.SubmittedByName
	}
	if err := json.Unmarshal(row.Items, &out.Items); err != nil {
		return nil, apperr.Wrap(fmt.Errorf("report items: %w", err), "load the structured report")
	}
	if err := json.Unmarshal(row.Answers, &out.Answers); err != nil {
		return nil, apperr.Wrap(fmt.Errorf("report answers: %w", err), "load the structured report")
	}
	if out.Items == nil {
		out.Items = []incident.ReportItem{}
	}
	return out, nil
}
