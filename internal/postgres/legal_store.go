package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

var (
	_ incident.LegalStore = (*Store)(nil)
	_ incident.LegalTx    = (*txn)(nil)
)

// legalReportRow is the incident_legal_reports table, with the filer's
// name from users.
type legalReportRow struct {
	ID          uuid.UUID
	IncidentID  uuid.UUID
	Kind        string
	Phase       int
	Language    string
	Items       []byte `gorm:"type:jsonb"`
	LateReason  string
	DueAt       time.Time
	FiledBy     *uuid.UUID
	FiledByName string
	FiledAt     time.Time
	// read-only: the filer's name today (else the name stored)
	FilerName *string `gorm:"->"`
}

func (legalReportRow) TableName() string { return "incident_legal_reports" }

func (r *legalReportRow) domain() (incident.LegalReport, error) {
	out := incident.LegalReport{ID: r.ID, IncidentID: r.IncidentID, Kind: incident.DeadlineKind(r.Kind), Phase: r.Phase,
		Language: r.Language, LateReason: r.LateReason, DueAt: r.DueAt.UTC(), FiledByID: r.FiledBy,
		FiledByName: r.FiledByName, FiledAt: r.FiledAt.UTC()}
	if r.FilerName != nil && *r.FilerName != "" {
		out.FiledByName = *r.FilerName
	}
	if err := json.Unmarshal(r.Items, &out.Items); err != nil {
		return out, fmt.Errorf("legal report %s: items: %w", r.ID, err)
	}
	return out, nil
}

// legalReportSelect reads legal reports of incidents p may see (the
// visibility condition over "i" follows).
const legalReportSelect = `SELECT l.*, u.name AS filer_name
FROM incident_legal_reports l
JOIN incidents i ON i.id = l.incident_id
LEFT JOIN users u ON u.id = l.filed_by
WHERE `

func (s *Store) legalReports(ctx context.Context, p access.Principal, where string, args ...any) ([]incident.LegalReport, error) {
	vis, visArgs := visibleTo(p)
	var rows []legalReportRow
	if err := s.db.WithContext(ctx).Raw(legalReportSelect+where+" AND "+vis+" ORDER BY l.filed_at, l.phase",
		append(args, visArgs...)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load legal reports")
	}
	out := make([]incident.LegalReport, 0, len(rows))
	for i := range rows {
		r, err := rows[i].domain()
		if err != nil {
			return nil, apperr.Wrap(err, "load legal reports")
		}
		out = append(out, r)
	}
	return out, nil
}

// LegalReports implements incident.LegalStore.
func (s *Store) LegalReports(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]incident.LegalReport, error) {
	return s.legalReports(ctx, p, "l.incident_id = ?", incidentID)
}

// LegalReport implements incident.LegalStore.
func (s *Store) LegalReport(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*incident.LegalReport, error) {
	rs, err := s.legalReports(ctx, p, "l.incident_id = ? AND l.id = ?", incidentID, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, apperr.New(apperr.NotFound, "legal report %s not found", id)
	}
	return &rs[0], nil
}

// CountLegalReports implements incident.LegalTx.
func (t *txn) CountLegalReports(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind) (int, error) {
	var n int
	err := t.db.WithContext(ctx).Raw(`SELECT count(*) FROM incident_legal_reports WHERE incident_id = ? AND kind = ?`,
		incidentID, string(kind)).Scan(&n).Error
	return n, translate(err, "count legal reports")
}

// InsertLegalReport implements incident.LegalTx.
func (t *txn) InsertLegalReport(ctx context.Context, r *incident.LegalReport) error {
	items, err := json.Marshal(r.Items)
	if err != nil {
		return fmt.Errorf("legal report items: %w", err)
	}
	row := legalReportRow{ID: r.ID, IncidentID: r.IncidentID, Kind: string(r.Kind), Phase: r.Phase, Language: r.Language,
		Items: items, LateReason: r.LateReason, DueAt: r.DueAt, FiledBy: r.FiledByID, FiledByName: r.FiledByName, FiledAt: r.FiledAt}
	return translate(t.db.WithContext(ctx).Omit("FilerName").Create(&row).Error, "record legal report")
}
