package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var _ stats.Store = (*Store)(nil)

// statsReader reads the metrics on one snapshot.
type statsReader struct{ db *gorm.DB }

// InStatsSnapshot implements stats.Store: a read-only REPEATABLE READ
// transaction, so that the roll-ups, the incidents read beside them and the
// escalations are all of the same moment.
func (s *Store) InStatsSnapshot(ctx context.Context, fn func(ctx context.Context, r stats.Reader) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(ctx, &statsReader{db: tx})
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// ViewerOrg implements stats.Reader.
func (r *statsReader) ViewerOrg(ctx context.Context, orgID uuid.UUID) (stats.OrgLabel, error) {
	labels, err := r.Orgs(ctx, []uuid.UUID{orgID})
	if err != nil {
		return stats.OrgLabel{}, err
	}
	l, ok := labels[orgID]
	if !ok {
		return l, apperr.New(apperr.NotFound, "organisation %s not found", orgID)
	}
	return l, nil
}

// Orgs implements stats.Reader.
func (r *statsReader) Orgs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]stats.OrgLabel, error) {
	out := map[uuid.UUID]stats.OrgLabel{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID       uuid.UUID
		Slug     string
		Name     string
		Kind     string
		TimeZone string
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT id, slug, name, kind, time_zone FROM organizations WHERE id IN ?`, ids).
		Scan(&rows).Error; err != nil {
		return nil, translate(err, "read organisations")
	}
	for _, o := range rows {
		out[o.ID] = stats.OrgLabel{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: o.Kind, TimeZone: o.TimeZone}
	}
	return out, nil
}

// RollupCells implements stats.Reader: totals and deltas summed per row.
func (r *statsReader) RollupCells(ctx context.Context, orgID uuid.UUID, from, to time.Time) ([]stats.Cell, error) {
	var rows []struct {
		Series string
		Day    time.Time
		K1, K2 string
		N      int64
		Total  int64
	}
	// Four index range reads (the span and the snapshot day, of totals and
	// of deltas not folded in yet), without an OR that would make them
	// one read of every day; the caller sums the rows of a key. The span
	// leaves the snapshot day out, in case it holds 1970-01-01.
	f, t, snap := from.Format(time.DateOnly), to.Format(time.DateOnly), stats.Snapshot.Format(time.DateOnly)
	err := r.db.WithContext(ctx).Raw(`
		SELECT series, day, k1, k2, n, total FROM stats_rollup WHERE org_id = ? AND day >= ?::date AND day < ?::date AND day <> ?::date
		UNION ALL SELECT series, day, k1, k2, n, total FROM stats_rollup WHERE org_id = ? AND day = ?::date
		UNION ALL SELECT series, day, k1, k2, n, total FROM stats_delta WHERE org_id = ? AND day >= ?::date AND day < ?::date AND day <> ?::date
		UNION ALL SELECT series, day, k1, k2, n, total FROM stats_delta WHERE org_id = ? AND day = ?::date`,
		orgID, f, t, snap, orgID, snap, orgID, f, t, snap, orgID, snap).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "read roll-ups")
	}
	out := make([]stats.Cell, len(rows))
	for i, c := range rows {
		y, m, d := c.Day.Date()
		out[i] = stats.Cell{Series: stats.Series(c.Series), Day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), K1: c.K1, K2: c.K2,
			N: c.N, Total: c.Total}
	}
	return out, nil
}

// ExtraFacts implements stats.Reader. Its candidates are the incidents of
// p's participations, its organisation's shares and escalations: the only
// ways to see an incident outside its organisation's audience.
func (r *statsReader) ExtraFacts(ctx context.Context, p access.Principal) ([]*stats.Facts, error) {
	vis, args := visibleTo(p)
	var rows []struct{ F []byte }
	err := r.db.WithContext(ctx).Raw(`SELECT to_jsonb(f) AS f FROM stats_facts f JOIN incidents i ON i.id = f.incident_id
		WHERE f.incident_id IN (SELECT incident_id FROM incident_participants WHERE user_id = ?
			UNION SELECT incident_id FROM incident_shares WHERE org_id = ?)
		  AND NOT (?::uuid = ANY (f.audience)) AND `+vis,
		append([]any{p.UserID, p.OrgID, p.OrgID}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "read facts")
	}
	out := make([]*stats.Facts, 0, len(rows))
	for _, row := range rows {
		var fj factsJSON
		if err := json.Unmarshal(row.F, &fj); err != nil {
			return nil, fmt.Errorf("decode facts: %w", err)
		}
		out = append(out, fj.domain())
	}
	return out, nil
}

// UnmetDue implements stats.Reader.
func (r *statsReader) UnmetDue(ctx context.Context, p access.Principal, from, to time.Time) ([]stats.UnmetDeadline, error) {
	vis, args := visibleTo(p)
	var rows []struct {
		IncidentID uuid.UUID
		Kind       string
		DueAt      time.Time
	}
	err := r.db.WithContext(ctx).Raw(`SELECT d.incident_id, d.kind, d.due_at FROM stats_unmet_deadlines d
		JOIN incidents i ON i.id = d.incident_id WHERE d.due_at >= ? AND d.due_at < ? AND `+vis,
		append([]any{from, to}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "read unmet deadlines")
	}
	out := make([]stats.UnmetDeadline, len(rows))
	for i, d := range rows {
		out[i] = stats.UnmetDeadline{IncidentID: d.IncidentID, Kind: incident.DeadlineKind(d.Kind), DueAt: d.DueAt.UTC()}
	}
	return out, nil
}

// OldestOpen implements stats.Reader: the partial index of open incidents
// by report time is walked from the oldest (a CERT), or the viewer's few
// visible incidents are sorted (anyone else).
func (r *statsReader) OldestOpen(ctx context.Context, p access.Principal, limit int) ([]stats.OpenIncident, error) {
	vis, args := visibleTo(p)
	var rows []struct {
		ID               uuid.UUID
		Reference        string
		Title            string
		Stage            string
		Severity         string
		TLP              string `gorm:"column:tlp"`
		Significant      bool
		ReportingOrg     string
		ReportingOrgName string
		ReportedAt       time.Time
		AcknowledgedAt   *time.Time
	}
	err := r.db.WithContext(ctx).Raw(`SELECT i.id, i.reference, i.title, i.stage, i.severity, i.tlp, i.significant,
		ro.slug AS reporting_org, ro.name AS reporting_org_name, i.reported_at, i.acknowledged_at
		FROM incidents i JOIN organizations ro ON ro.id = i.reporting_org_id
		WHERE i.status = 'open' AND `+vis+` ORDER BY i.reported_at, i.id LIMIT ?`, append(args, limit)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "read open incidents")
	}
	out := make([]stats.OpenIncident, len(rows))
	for i, o := range rows {
		out[i] = stats.OpenIncident{ID: o.ID, Reference: o.Reference, Title: o.Title, Stage: incident.Stage(o.Stage),
			Severity: incident.Severity(o.Severity), TLP: incident.TLP(o.TLP), Significant: o.Significant,
			ReportingOrg: o.ReportingOrg, ReportingOrgName: o.ReportingOrgName, ReportedAt: o.ReportedAt.UTC(),
			AcknowledgedAt: utcp(o.AcknowledgedAt)}
	}
	return out, nil
}

// Escalations implements stats.Reader.
func (r *statsReader) Escalations(ctx context.Context, p access.Principal, from, to time.Time) ([]stats.EscalationFact, error) {
	vis, args := visibleTo(p)
	var rows []struct {
		FromOrgID, ToOrgID uuid.UUID
		State              string
		RequestedAt        time.Time
		DecidedAt          *time.Time
	}
	err := r.db.WithContext(ctx).Raw(`SELECT e.from_org_id, e.to_org_id, e.state, e.requested_at, e.decided_at
		FROM escalations e JOIN incidents i ON i.id = e.incident_id
		WHERE e.requested_at >= ? AND e.requested_at < ? AND `+vis, append([]any{from, to}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "read escalations")
	}
	out := make([]stats.EscalationFact, len(rows))
	for i, e := range rows {
		out[i] = stats.EscalationFact{FromOrgID: e.FromOrgID, ToOrgID: e.ToOrgID, State: e.State,
			RequestedAt: e.RequestedAt.UTC(), DecidedAt: utcp(e.DecidedAt)}
	}
	return out, nil
}
