package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var (
	_ runbook.Store = (*Store)(nil)
	_ runbook.Tx    = (*txn)(nil)
)

// runRow is the playbook_runs table, with the incident's reference.
type runRow struct {
	ID                uuid.UUID
	IncidentID        uuid.UUID
	PlaybookID        string
	PlaybookVersion   int
	PlaybookName      string
	ContentHash       string
	Source            []byte
	Trigger           string
	State             string
	StartedBy         *uuid.UUID
	StartedByName     string
	StartedAt         time.Time
	FinishedAt        *time.Time
	Error             string
	IncidentReference string `gorm:"->"`
}

func (r *runRow) domain() runbook.Run {
	return runbook.Run{ID: r.ID, IncidentID: r.IncidentID, PlaybookID: r.PlaybookID, Version: r.PlaybookVersion,
		Name: r.PlaybookName, Hash: r.ContentHash, Source: r.Source, Trigger: r.Trigger, State: runbook.State(r.State),
		StartedBy: r.StartedBy, StartedByName: r.StartedByName, StartedAt: r.StartedAt.UTC(), FinishedAt: utcp(r.FinishedAt),
		Error: r.Error, IncidentReference: r.IncidentReference}
}

// stepRow is the playbook_steps table.
type stepRow struct {
	RunID      uuid.UUID
	StepID     string
	Position   int
	Action     string
	Status     string
	Attempts   int
	LastError  string
	Output     []byte
	JobID      *int64
	WaitingFor string
	Handled    bool
	JumpedFrom string
	StartedAt  *time.Time
	FinishedAt *time.Time
}

func (r *stepRow) domain() runbook.Step {
	s := runbook.Step{RunID: r.RunID, ID: r.StepID, Position: r.Position, Action: r.Action, Status: runbook.Status(r.Status),
		Attempts: r.Attempts, LastError: r.LastError, JobID: r.JobID, WaitingFor: r.WaitingFor, Handled: r.Handled,
		JumpedFrom: r.JumpedFrom, StartedAt: utcp(r.StartedAt), FinishedAt: utcp(r.FinishedAt), Output: map[string]any{}}
	_ = json.Unmarshal(r.Output, &s.Output)
	return s
}

// InRunTx implements runbook.Store.
func (s *Store) InRunTx(ctx context.Context, fn func(ctx context.Context, tx runbook.Tx) error) error {
	return inTx(ctx, s, fn)
}

const runSelect = `SELECT r.*, i.reference AS incident_reference FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id`

// Runs implements runbook.Store.
func (s *Store) Runs(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]runbook.Run, error) {
	vis, args := visibleTo(p)
	var rows []runRow
	err := s.db.WithContext(ctx).Raw(runSelect+` WHERE r.incident_id = ? AND `+vis+` ORDER BY r.started_at DESC, r.id DESC LIMIT 500`,
		append([]any{incidentID}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list playbook runs")
	}
	out := make([]runbook.Run, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	steps, err := runSteps(ctx, s.db, ids, "")
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Steps = steps[out[i].ID]
	}
	return out, nil
}

// Run implements runbook.Store.
func (s *Store) Run(ctx context.Context, p access.Principal, incidentID, runID uuid.UUID) (*runbook.Run, error) {
	vis, args := visibleTo(p)
	return oneRun(ctx, s.db, runSelect+` WHERE r.id = ? AND r.incident_id = ? AND `+vis, append([]any{runID, incidentID}, args...), false)
}

// oneRun reads one run and its steps; lock also locks them until the end
// of the transaction.
func oneRun(ctx context.Context, db *gorm.DB, q string, args []any, lock bool) (*runbook.Run, error) {
	runLock, stepLock := "", ""
	if lock {
		runLock, stepLock = " FOR UPDATE OF r", " FOR UPDATE"
	}
	var rows []runRow
	if err := db.WithContext(ctx).Raw(q+runLock, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load playbook run")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "playbook run %v not found", args[0])
	}
	r := rows[0].domain()
	steps, err := runSteps(ctx, db, []uuid.UUID{r.ID}, stepLock)
	if err != nil {
		return nil, err
	}
	r.Steps = steps[r.ID]
	return &r, nil
}

// runSteps reads the steps of runs in file order; lock is "" or " FOR UPDATE".
func runSteps(ctx context.Context, db *gorm.DB, runIDs []uuid.UUID, lock string) (map[uuid.UUID][]runbook.Step, error) {
	var rows []stepRow
	if err := db.WithContext(ctx).Raw(`SELECT * FROM playbook_steps WHERE run_id IN ? ORDER BY run_id, position`+lock, runIDs).
		Scan(&rows).Error; err != nil {
		return nil, translate(err, "load playbook steps")
	}
	out := map[uuid.UUID][]runbook.Step{}
	for i := range rows {
		out[rows[i].RunID] = append(out[rows[i].RunID], rows[i].domain())
	}
	return out, nil
}

// InsertRun implements runbook.Tx.
func (t *txn) InsertRun(ctx context.Context, r *runbook.Run) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO playbook_runs (id, incident_id, playbook_id, playbook_version, playbook_name,
		content_hash, source, trigger, state, started_by, started_by_name, started_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, playbook_id, playbook_version) DO NOTHING`,
		r.ID, r.IncidentID, r.PlaybookID, r.Version, r.Name, r.Hash, r.Source, r.Trigger, string(r.State), r.StartedBy,
		r.StartedByName, r.StartedAt)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, translate(res.Error, "insert playbook run")
	}
	if len(r.Steps) == 0 {
		return true, nil
	}
	values := make([]string, len(r.Steps))
	args := make([]any, 0, 5*len(r.Steps))
	for i, st := range r.Steps {
		values[i] = "(?, ?, ?, ?, ?)"
		args = append(args, r.ID, st.ID, st.Position, st.Action, string(st.Status))
	}
	if err := t.db.WithContext(ctx).Exec(`INSERT INTO playbook_steps (run_id, step_id, position, action, status) VALUES `+
		strings.Join(values, ", "), args...).Error; err != nil {
		return false, translate(err, "insert playbook steps")
	}
	return true, nil
}

// RunIncident implements runbook.Tx.
func (t *txn) RunIncident(ctx context.Context, runID uuid.UUID) (uuid.UUID, error) {
	var ids []uuid.UUID
	if err := t.db.WithContext(ctx).Raw(`SELECT incident_id FROM playbook_runs WHERE id = ?`, runID).Scan(&ids).Error; err != nil {
		return uuid.Nil, translate(err, "find playbook run")
	}
	if len(ids) == 0 {
		return uuid.Nil, apperr.New(apperr.NotFound, "playbook run %s not found", runID)
	}
	return ids[0], nil
}

// LockRun implements runbook.Tx.
func (t *txn) LockRun(ctx context.Context, incidentID, runID uuid.UUID) (*runbook.Run, error) {
	return oneRun(ctx, t.db, runSelect+` WHERE r.id = ? AND r.incident_id = ?`, []any{runID, incidentID}, true)
}

// UpdateRun implements runbook.Tx.
func (t *txn) UpdateRun(ctx context.Context, r *runbook.Run) error {
	return translate(t.db.WithContext(ctx).Exec(`UPDATE playbook_runs SET state = ?, finished_at = ?, error = ? WHERE id = ?`,
		string(r.State), r.FinishedAt, r.Error, r.ID).Error, "update playbook run")
}

// UpdateStep implements runbook.Tx.
func (t *txn) UpdateStep(ctx context.Context, s *runbook.Step) error {
	out, err := json.Marshal(s.Output)
	if err != nil || s.Output == nil {
		out = []byte("{}")
	}
	return translate(t.db.WithContext(ctx).Exec(`UPDATE playbook_steps SET status = ?, attempts = ?, last_error = ?, output = ?,
		job_id = ?, waiting_for = ?, handled = ?, jumped_from = ?, started_at = ?, finished_at = ?
		WHERE run_id = ? AND step_id = ?`,
		string(s.Status), s.Attempts, s.LastError, string(out), s.JobID, s.WaitingFor, s.Handled, s.JumpedFrom,
		s.StartedAt, s.FinishedAt, s.RunID, s.ID).Error, "update playbook step")
}

// WaitingRuns implements runbook.Tx.
func (t *txn) WaitingRuns(ctx context.Context, incidentID uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT r.id FROM playbook_runs r WHERE r.incident_id = ? AND r.state = 'running'
		AND EXISTS (SELECT 1 FROM playbook_steps s WHERE s.run_id = r.id AND s.status = 'waiting') ORDER BY r.started_at, r.id`,
		incidentID).Scan(&ids).Error
	return ids, translate(err, "find waiting playbook runs")
}
