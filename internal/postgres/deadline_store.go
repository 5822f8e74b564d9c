package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

var (
	_ deadline.Store = (*Store)(nil)
	_ deadline.Tx    = (*txn)(nil)
)

// deadlineTimerRow is the deadline_timers table.
type deadlineTimerRow struct {
	IncidentID uuid.UUID
	Kind       string
	Point      string
	FireAt     time.Time
	DueAt      time.Time
	JobID      int64
	FiredAt    *time.Time
}

func (r deadlineTimerRow) domain() deadline.Timer {
	return deadline.Timer{IncidentID: r.IncidentID, Kind: incident.DeadlineKind(r.Kind), Point: r.Point,
		FireAt: r.FireAt.UTC(), DueAt: r.DueAt.UTC(), JobID: r.JobID, FiredAt: utcp(r.FiredAt)}
}

// InDeadlineTx implements deadline.Store.
func (s *Store) InDeadlineTx(ctx context.Context, fn func(ctx context.Context, tx deadline.Tx) error) error {
	return inTx(ctx, s, fn)
}

const deadlineTimerColumns = `incident_id, kind, point, fire_at, due_at, job_id, fired_at`

// DeadlineTimers implements deadline.Tx.
func (t *txn) DeadlineTimers(ctx context.Context, incidentID uuid.UUID) ([]deadline.Timer, error) {
	var rows []deadlineTimerRow
	if err := t.db.WithContext(ctx).Raw(`SELECT `+deadlineTimerColumns+` FROM deadline_timers WHERE incident_id = ?
		ORDER BY kind, fire_at`, incidentID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load deadline timers")
	}
	out := make([]deadline.Timer, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// LockDeadlineTimer implements deadline.Tx.
func (t *txn) LockDeadlineTimer(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string) (*deadline.Timer, error) {
	var rows []deadlineTimerRow
	if err := t.db.WithContext(ctx).Raw(`SELECT `+deadlineTimerColumns+` FROM deadline_timers
		WHERE incident_id = ? AND kind = ? AND point = ? FOR UPDATE`, incidentID, string(kind), point).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load deadline timer")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "no %s timer of %s at %s", kind, incidentID, point)
	}
	tm := rows[0].domain()
	return &tm, nil
}

// PutDeadlineTimer implements deadline.Tx.
func (t *txn) PutDeadlineTimer(ctx context.Context, tm deadline.Timer) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO deadline_timers (`+deadlineTimerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, kind, point) DO UPDATE SET fire_at = EXCLUDED.fire_at, due_at = EXCLUDED.due_at,
			job_id = EXCLUDED.job_id, fired_at = EXCLUDED.fired_at, created_at = now()`,
		tm.IncidentID, string(tm.Kind), tm.Point, tm.FireAt, tm.DueAt, tm.JobID, tm.FiredAt).Error
	return translate(err, "store deadline timer")
}

// DeleteDeadlineTimer implements deadline.Tx.
func (t *txn) DeleteDeadlineTimer(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string) error {
	err := t.db.WithContext(ctx).Exec(`DELETE FROM deadline_timers WHERE incident_id = ? AND kind = ? AND point = ?`,
		incidentID, string(kind), point).Error
	return translate(err, "delete deadline timer")
}

// MarkDeadlineTimerFired implements deadline.Tx.
func (t *txn) MarkDeadlineTimerFired(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string, at time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE deadline_timers SET fired_at = ? WHERE incident_id = ? AND kind = ? AND point = ?`,
		at, incidentID, string(kind), point).Error
	return translate(err, "mark deadline timer fired")
}

// FlaggedIncidentsWithoutTimers implements deadline.Tx.
func (t *txn) FlaggedIncidentsWithoutTimers(ctx context.Context) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT i.id FROM incidents i WHERE (i.significant OR i.personal_data_breach)
		AND NOT EXISTS (SELECT 1 FROM deadline_timers d WHERE d.incident_id = i.id) ORDER BY i.id`).Scan(&ids).Error
	return ids, translate(err, "load flagged incidents without deadline timers")
}
