package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
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
	// StepsJSON are the run's steps as a JSON array in file order (LockRun).
	StepsJSON []byte `gorm:"->"`
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
	steps, err := runSteps(ctx, s.db, ids)
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
	return oneRun(ctx, s.db, runSelect+` WHERE r.id = ? AND r.incident_id = ? AND `+vis, append([]any{runID, incidentID}, args...))
}

// oneRun reads one run and its steps.
func oneRun(ctx context.Context, db *gorm.DB, q string, args []any) (*runbook.Run, error) {
	var rows []runRow
	if err := db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load playbook run")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "playbook run %v not found", args[0])
	}
	r := rows[0].domain()
	steps, err := runSteps(ctx, db, []uuid.UUID{r.ID})
	if err != nil {
		return nil, err
	}
	r.Steps = steps[r.ID]
	return &r, nil
}

// runSteps reads the steps of runs in file order.
func runSteps(ctx context.Context, db *gorm.DB, runIDs []uuid.UUID) (map[uuid.UUID][]runbook.Step, error) {
	var rows []stepRow
	if err := db.WithContext(ctx).Raw(`SELECT * FROM playbook_steps WHERE run_id IN ? ORDER BY run_id, position`, runIDs).
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

// LockRunIncident implements runbook.Tx: the incident is found through
// the run in the statement that locks it.
func (t *txn) LockRunIncident(ctx context.Context, runID uuid.UUID) (*incident.Incident, error) {
	inc, err := oneIncident(ctx, t.db, access.System, "i.id = (SELECT pr.incident_id FROM playbook_runs pr WHERE pr.id = ?)", runID,
		"FOR UPDATE OF i")
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.New(apperr.NotFound, "playbook run %s not found", runID)
	}
	return inc, err
}

// stepJSON is a playbook_steps row as json_agg renders it.
type stepJSON struct {
	RunID      uuid.UUID       `json:"run_id"`
	StepID     string          `json:"step_id"`
	Position   int             `json:"position"`
	Action     string          `json:"action"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"last_error"`
	Output     json.RawMessage `json:"output"`
	JobID      *int64          `json:"job_id"`
	WaitingFor string          `json:"waiting_for"`
	Handled    bool            `json:"handled"`
	JumpedFrom string          `json:"jumped_from"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// LockRun implements runbook.Tx: one statement reads the run and its
// steps and locks the run row, not the step rows. Its snapshot is taken
// after the caller locked the incident, and every writer of a run's steps
// holds that lock first, so the steps it reads are the latest committed.
func (t *txn) LockRun(ctx context.Context, incidentID, runID uuid.UUID) (*runbook.Run, error) {
	var rows []runRow
	err := t.db.WithContext(ctx).Raw(`SELECT r.*, i.reference AS incident_reference,
		COALESCE((SELECT json_agg(s ORDER BY s.position) FROM playbook_steps s WHERE s.run_id = r.id), '[]') AS steps_json
		FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id
		WHERE r.id = ? AND r.incident_id = ? FOR UPDATE OF r`, runID, incidentID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "lock playbook run")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "playbook run %s not found", runID)
	}
	var steps []stepJSON
	if err := json.Unmarshal(rows[0].StepsJSON, &steps); err != nil {
		return nil, fmt.Errorf("lock playbook run: read its steps: %w", err)
	}
	r := rows[0].domain()
	r.Steps = make([]runbook.Step, len(steps))
	for i, s := range steps {
		row := stepRow{RunID: s.RunID, StepID: s.StepID, Position: s.Position, Action: s.Action, Status: s.Status,
			Attempts: s.Attempts, LastError: s.LastError, Output: s.Output, JobID: s.JobID, WaitingFor: s.WaitingFor,
			Handled: s.Handled, JumpedFrom: s.JumpedFrom, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
		r.Steps[i] = row.domain()
	}
	return &r, nil
}

// WriteRun implements runbook.Tx: the events, the steps and the run are
// written by one statement (data-modifying WITH clauses, each run once to
// completion), which returns the events' IDs.
func (t *txn) WriteRun(ctx context.Context, r *runbook.Run, runChanged bool, steps []*runbook.Step, events []*incident.Event) error {
	if !runChanged && len(steps) == 0 && len(events) == 0 {
		return nil
	}
	type evJSON struct {
		N           int             `json:"n"`
		IncidentID  uuid.UUID       `json:"incident_id"`
		ActorUserID *uuid.UUID      `json:"actor_user_id"`
		Actor       string          `json:"actor"`
		Kind        string          `json:"kind"`
		Data        json.RawMessage `json:"data"`
		OccurredAt  time.Time       `json:"occurred_at"`
	}
	evs := make([]evJSON, len(events))
	for i, ev := range events {
		data := ev.Data
		if len(data) == 0 {
			data = []byte("{}")
		}
		evs[i] = evJSON{N: i, IncidentID: ev.IncidentID, ActorUserID: ev.ActorUserID, Actor: ev.Actor, Kind: string(ev.Kind),
			Data: data, OccurredAt: ev.OccurredAt}
	}
	sts := make([]stepJSON, len(steps))
	for i, s := range steps {
		out, err := json.Marshal(s.Output)
		if err != nil || s.Output == nil {
			out = []byte("{}")
		}
		sts[i] = stepJSON{StepID: s.ID, Status: string(s.Status), Attempts: s.Attempts, LastError: s.LastError, Output: out,
			JobID: s.JobID, WaitingFor: s.WaitingFor, Handled: s.Handled, JumpedFrom: s.JumpedFrom, StartedAt: s.StartedAt,
			FinishedAt: s.FinishedAt}
	}
	evArg, err := json.Marshal(evs)
	if err != nil {
		return fmt.Errorf("write playbook run: events: %w", err)
	}
	stArg, err := json.Marshal(sts)
	if err != nil {
		return fmt.Errorf("write playbook run: steps: %w", err)
	}
	var out []struct {
		ID         int64
		RecordedAt time.Time
	}
	err = t.db.WithContext(ctx).Raw(`WITH ev AS (
			INSERT INTO incident_events (incident_id, actor_user_id, actor, kind, data, occurred_at)
			SELECT v.incident_id, v.actor_user_id, v.actor, v.kind, v.data, v.occurred_at
			FROM jsonb_to_recordset(?::jsonb) AS v(n int, incident_id uuid, actor_user_id uuid, actor text, kind text, data jsonb,
				occurred_at timestamptz)
			ORDER BY v.n
			RETURNING id, recorded_at
		), st AS (
			UPDATE playbook_steps s SET status = v.status, attempts = v.attempts, last_error = v.last_error, output = v.output,
				job_id = v.job_id, waiting_for = v.waiting_for, handled = v.handled, jumped_from = v.jumped_from,
				started_at = v.started_at, finished_at = v.finished_at
			FROM jsonb_to_recordset(?::jsonb) AS v(step_id text, status text, attempts int, last_error text, output jsonb,
				job_id bigint, waiting_for text, handled boolean, jumped_from text, started_at timestamptz, finished_at timestamptz)
			WHERE s.run_id = ? AND s.step_id = v.step_id
		), run AS (
			UPDATE playbook_runs SET state = ?, finished_at = ?, error = ? WHERE id = ? AND ?
		)
		SELECT id, recorded_at FROM ev ORDER BY id`,
		string(evArg), string(stArg), r.ID, string(r.State), r.FinishedAt, r.Error, r.ID, runChanged).Scan(&out).Error
	if err != nil {
		return translate(err, "write playbook run")
	}
	if len(out) != len(events) {
		return fmt.Errorf("write playbook run: %d events appended, want %d", len(out), len(events))
	}
	for i, ev := range events {
		ev.ID, ev.RecordedAt = out[i].ID, out[i].RecordedAt.UTC()
		if t.store.events != nil {
			t.appended = append(t.appended, *ev)
		}
	}
	return nil
}

// WaitingRuns implements runbook.Tx.
func (t *txn) WaitingRuns(ctx context.Context, incidentID uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT r.id FROM playbook_runs r WHERE r.incident_id = ? AND r.state = 'running'
		AND EXISTS (SELECT 1 FROM playbook_steps s WHERE s.run_id = r.id AND s.status = 'waiting') ORDER BY r.started_at, r.id`,
		incidentID).Scan(&ids).Error
	return ids, translate(err, "find waiting playbook runs")
}
