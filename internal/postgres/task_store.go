package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
)

var (
	_ task.Store = (*Store)(nil)
	_ task.Tx    = (*txn)(nil)
)

// taskRow is the incident_tasks table, with what reads join to it.
type taskRow struct {
	ID             uuid.UUID
	IncidentID     uuid.UUID
	Title          string
	Description    string
	AssigneeID     *uuid.UUID
	AssigneeTeamID *uuid.UUID
	DueAt          *time.Time
	Status         string
	Position       int
	CreatedBy      *uuid.UUID
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time
	Version        int64
	// read-only, from joins
	IncidentReference string  `gorm:"->"`
	IncidentTitle     string  `gorm:"->"`
	AssigneeEmail     *string `gorm:"->"`
	AssigneeTeamName  *string `gorm:"->"`
	CreatedByEmail    *string `gorm:"->"`
	AssigneeName      *string `gorm:"->"`
	CreatedByName     *string `gorm:"->"`
}

func (taskRow) TableName() string { return "incident_tasks" }

func (r *taskRow) domain() task.Task {
	t := task.Task{
		ID: r.ID, IncidentID: r.IncidentID, Title: r.Title, Description: r.Description, AssigneeID: r.AssigneeID,
		DueAt: utcp(r.DueAt), Status: task.Status(r.Status), Position: r.Position, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), CompletedAt: utcp(r.CompletedAt), Version: r.Version,
		IncidentReference: r.IncidentReference, IncidentTitle: r.IncidentTitle, AssigneeTeamID: r.AssigneeTeamID,
	}
	if r.AssigneeTeamName != nil {
		t.AssigneeTeamName = *r.AssigneeTeamName
	}
	if r.AssigneeEmail != nil {
		t.AssigneeEmail = *r.AssigneeEmail
	}
	if r.CreatedByEmail != nil {
		t.CreatedByEmail = *r.CreatedByEmail
	}
	if r.AssigneeName != nil {
		t.AssigneeName = *r.AssigneeName
	}
	if r.CreatedByName != nil {
		t.CreatedByName = *r.CreatedByName
	}
	return t
}

func taskRows(rows []taskRow) []task.Task {
	out := make([]task.Task, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out
}

// taskSelect reads tasks with their incident's reference and title and the
// e-mails and names of the assignee and the creator. Reads for a principal add
// visibleTo over the incident "i".
const taskSelect = `SELECT t.*, i.reference AS incident_reference, i.title AS incident_title,
	au.email AS assignee_email, ateam.name AS assignee_team_name, cu.email AS created_by_email,
	au.name AS assignee_name, cu.name AS created_by_name
FROM incident_tasks t
JOIN incidents i ON i.id = t.incident_id
LEFT JOIN users au ON au.id = t.assignee_id
LEFT JOIN teams ateam ON ateam.id = t.assignee_team_id
LEFT JOIN users cu ON cu.id = t.created_by`

// InTaskTx implements task.Store.
func (s *Store) InTaskTx(ctx context.Context, fn func(ctx context.Context, tx task.Tx) error) error {
	return inTx(ctx, s, fn)
}

// Task implements task.Store.
func (s *Store) Task(ctx context.Context, p access.Principal, incidentID, taskID uuid.UUID) (*task.Task, error) {
	vis, args := visibleTo(p)
	var rows []taskRow
	err := s.db.WithContext(ctx).Raw(taskSelect+" WHERE t.incident_id = ? AND t.id = ? AND "+vis,
		append([]any{incidentID, taskID}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load task")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "task %s not found", taskID)
	}
	t := rows[0].domain()
	return &t, nil
}

// taskPositionCursor is the keyset position after the last task of a page
// of an incident's tasks.
type taskPositionCursor struct {
	Position int       `json:"p"`
	ID       uuid.UUID `json:"i"`
}

// Tasks implements task.Store.
func (s *Store) Tasks(ctx context.Context, p access.Principal, incidentID uuid.UUID, statuses []task.Status, page incident.Page) ([]task.Task, string, error) {
	vis, args := visibleTo(p)
	q := taskSelect + " WHERE t.incident_id = ? AND " + vis
	args = append([]any{incidentID}, args...)
	if statuses != nil {
		q += " AND t.status IN ?"
		args = append(args, statusStrings(statuses))
	}
	if page.After != "" {
		var c taskPositionCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (t.position, t.id) > (?, ?)"
		args = append(args, c.Position, c.ID)
	}
	q += " ORDER BY t.position, t.id LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []taskRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list tasks")
	}
	rows, next := trimPage(rows, page.Limit, func(last taskRow) any { return taskPositionCursor{Position: last.Position, ID: last.ID} })
	return taskRows(rows), next, nil
}

// taskQueueCursor is the keyset position after the last task of a page of
// a queue. Due is nil for a task without a due time (they sort last).
type taskQueueCursor struct {
	Due     *time.Time `json:"d"`
	Created time.Time  `json:"c"`
	ID      uuid.UUID  `json:"i"`
}

// taskQueueOrder is the queue's sort key; incident_tasks_queue_idx holds it.
const taskQueueOrder = `COALESCE(t.due_at, 'infinity'::timestamptz), t.created_at, t.id`

// TaskQueue implements task.Store.
func (s *Store) TaskQueue(ctx context.Context, p access.Principal, statuses []task.Status, incidentID *uuid.UUID, page incident.Page) ([]task.Task, string, error) {
	vis, args := visibleTo(p)
	// The caller's tasks and their teams' unclaimed ones: two index
	// ranges (incident_tasks_queue_idx, incident_tasks_team_queue_idx).
	q := taskSelect + ` WHERE (t.assignee_id = ? OR (t.assignee_id IS NULL
		AND t.assignee_team_id IN (SELECT tm.team_id FROM team_members tm WHERE tm.user_id = ?))) AND ` + vis
	args = append([]any{p.UserID, p.UserID}, args...)
	if statuses != nil {
		q += " AND t.status IN ?"
		args = append(args, statusStrings(statuses))
	}
	if incidentID != nil {
		q += " AND t.incident_id = ?"
		args = append(args, *incidentID)
	}
	if page.After != "" {
		var c taskQueueCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (" + taskQueueOrder + ") > (COALESCE(CAST(? AS timestamptz), 'infinity'::timestamptz), ?, ?)"
		args = append(args, c.Due, c.Created, c.ID)
	}
	q += " ORDER BY " + taskQueueOrder + " LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []taskRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list task queue")
	}
	rows, next := trimPage(rows, page.Limit, func(last taskRow) any { return taskQueueCursor{Due: last.DueAt, Created: last.CreatedAt, ID: last.ID} })
	return taskRows(rows), next, nil
}

// OrgTasks implements task.Store.
func (s *Store) OrgTasks(ctx context.Context, p access.Principal, incidentID, orgID uuid.UUID, limit int) ([]task.Task, error) {
	vis, args := visibleTo(p)
	q := taskSelect + " WHERE t.incident_id = ? AND au.org_id = ? AND " + vis +
		" ORDER BY t.status IN ('done', 'cancelled'), t.position, t.id LIMIT ?"
	args = append(append([]any{incidentID, orgID}, args...), limit)
	var rows []taskRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list the organisation's tasks")
	}
	return taskRows(rows), nil
}

func statusStrings(ss []task.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func (t *txn) TaskAssignee(ctx context.Context, incidentID uuid.UUID, ref string) (*task.Assignee, error) {
	where, arg := "lower(u.email) = lower(?)", any(ref)
	if id, err := uuid.Parse(ref); err == nil {
		where, arg = "u.id = ?", id
	}
	var rows []userRow
	if err := t.db.WithContext(ctx).Raw(userSelect+" WHERE "+where, arg).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load assignee")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "user %q not found", ref)
	}
	u := rows[0].domain()
	a := &task.Assignee{ID: u.ID, Email: u.Email, Disabled: u.DisabledAt != nil, Principal: u.Principal()}
	// The one visibility rule, and the relations, applied to the assignee.
	inc, err := oneIncident(ctx, t.db, a.Principal, "i.id = ?", incidentID, "")
	switch {
	case err == nil:
		a.SeesIncident, a.Relations = true, inc.Relations
	case !apperr.Is(err, apperr.NotFound):
		return nil, err
	}
	return a, nil
}

func (t *txn) LastTaskPosition(ctx context.Context, incidentID uuid.UUID) (int, error) {
	var n int
	err := t.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(position), 0) FROM incident_tasks WHERE incident_id = ?", incidentID).Scan(&n).Error
	return n, translate(err, "last task position")
}

// InsertTask implements task.Tx: the position (one after the incident's
// last) is computed by the insert and returned by it.
func (t *txn) InsertTask(ctx context.Context, tk *task.Task) error {
	var pos []int
	err := t.db.WithContext(ctx).Raw(`INSERT INTO incident_tasks (id, incident_id, title, description, assignee_id, assignee_team_id,
		due_at, status, position, created_by, created_at, updated_at, completed_at, version)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ?, ? FROM incident_tasks WHERE incident_id = ?
		RETURNING position`,
		tk.ID, tk.IncidentID, tk.Title, tk.Description, tk.AssigneeID, tk.AssigneeTeamID, tk.DueAt, string(tk.Status),
		tk.CreatedBy, tk.CreatedAt, tk.UpdatedAt, tk.CompletedAt, tk.Version, tk.IncidentID).Scan(&pos).Error
	if err != nil {
		return translate(err, "insert task")
	}
	if len(pos) != 1 {
		return fmt.Errorf("insert task: %d rows inserted", len(pos))
	}
	tk.Position = pos[0]
	return nil
}

func (t *txn) LockTask(ctx context.Context, incidentID, taskID uuid.UUID) (*task.Task, error) {
	var rows []taskRow
	err := t.db.WithContext(ctx).Raw(taskSelect+" WHERE t.incident_id = ? AND t.id = ? FOR UPDATE OF t", incidentID, taskID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "lock task")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "task %s not found", taskID)
	}
	tk := rows[0].domain()
	return &tk, nil
}

func (t *txn) UpdateTask(ctx context.Context, tk *task.Task) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE incident_tasks SET title = ?, description = ?, assignee_id = ?, assignee_team_id = ?,
		due_at = ?, status = ?, position = ?, updated_at = ?, completed_at = ?, version = ? WHERE id = ?`,
		tk.Title, tk.Description, tk.AssigneeID, tk.AssigneeTeamID, tk.DueAt, string(tk.Status), tk.Position, tk.UpdatedAt,
		tk.CompletedAt, tk.Version, tk.ID).Error
	return translate(err, "update task")
}

func (t *txn) ShiftTasks(ctx context.Context, incidentID uuid.UUID, from, to int, now time.Time) error {
	q := `UPDATE incident_tasks SET position = position + 1, updated_at = ?, version = version + 1
		WHERE incident_id = ? AND position >= ? AND position < ?`
	lo, hi := to, from
	if to > from {
		q = `UPDATE incident_tasks SET position = position - 1, updated_at = ?, version = version + 1
		WHERE incident_id = ? AND position > ? AND position <= ?`
		lo, hi = from, to
	}
	return translate(t.db.WithContext(ctx).Exec(q, now, incidentID, lo, hi).Error, "shift tasks")
}

var _ task.OrgStore = (*Store)(nil)

// OpenOrgTasks implements task.OrgStore: one query for every incident of a
// list page.
func (s *Store) OpenOrgTasks(ctx context.Context, p access.Principal, orgID uuid.UUID, incidentIDs []uuid.UUID) (map[uuid.UUID][]task.Task, error) {
	vis, args := visibleTo(p)
	q := taskSelect + ` JOIN users ou ON ou.id = t.assignee_id
WHERE t.incident_id IN ? AND ou.org_id = ? AND t.status IN ('open', 'in_progress') AND ` + vis + `
ORDER BY t.incident_id, t.due_at NULLS LAST, t.position`
	var rows []taskRow
	if err := s.db.WithContext(ctx).Raw(q, append([]any{incidentIDs, orgID}, args...)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list the organisation's tasks")
	}
	out := map[uuid.UUID][]task.Task{}
	for i := range rows {
		out[rows[i].IncidentID] = append(out[rows[i].IncidentID], rows[i].domain())
	}
	return out, nil
}
