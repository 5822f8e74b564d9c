package task

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Store is the persistence the task use cases need. Every read takes the
// principal it reads for and returns only tasks of incidents that
// principal may see.
type Store interface {
	// InTaskTx runs fn in one database transaction.
	InTaskTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Task returns one task of an incident p sees (apperr.NotFound otherwise).
	Task(ctx context.Context, p access.Principal, incidentID, taskID uuid.UUID) (*Task, error)
	// Tasks returns a page of an incident's tasks in position order, and the
	// cursor of the next page ("" on the last page). statuses nil means all.
	Tasks(ctx context.Context, p access.Principal, incidentID uuid.UUID, statuses []Status, page incident.Page) ([]Task, string, error)
	// TaskQueue returns a page of the tasks assigned to p, and of the
	// unclaimed tasks (no person assigned) of p's teams, on incidents p
	// sees, by due time (none last), then creation time, and the cursor of
	// the next page. statuses nil means all; incidentID nil means every
	// incident.
	TaskQueue(ctx context.Context, p access.Principal, statuses []Status, incidentID *uuid.UUID, page incident.Page) ([]Task, string, error)
	// OrgTasks returns at most limit tasks of an incident p sees that are
	// assigned to users of the organisation orgID: unfinished ones first,
	// each group in position order.
	OrgTasks(ctx context.Context, p access.Principal, incidentID, orgID uuid.UUID, limit int) ([]Task, error)
	// OrgStore reads the tasks assigned to an organisation (org.go).
	OrgStore
}

// Tx is what the task use cases do inside a transaction. The postgres
// transaction implements it together with every other domain's Tx, so a
// use case of another domain (a playbook step) can embed Tx in its own
// transaction interface and call Service.CreateInTx.
type Tx interface {
	// LockIncident reads an incident p may see (by UUID or reference) and
	// locks it until the end of the transaction. Every task write locks
	// its incident first, so the writes of one incident's tasks queue.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
	// TaskAssignee finds the user an assignee reference names (an e-mail,
	// any case, or a user ID) and tells whether they see the incident.
	// An unknown user is apperr.NotFound.
	TaskAssignee(ctx context.Context, incidentID uuid.UUID, ref string) (*Assignee, error)
	// LastTaskPosition returns the highest position of the incident's tasks (0 for none).
	LastTaskPosition(ctx context.Context, incidentID uuid.UUID) (int, error)
	// InsertTask inserts a task as the last of its incident's, and sets
	// its Position (the statement computes it; the caller has locked the
	// incident, so positions do not collide).
	InsertTask(ctx context.Context, t *Task) error
	// LockTask reads one task of the incident and locks it. The caller has
	// locked the incident through the visibility rule.
	LockTask(ctx context.Context, incidentID, taskID uuid.UUID) (*Task, error)
	// UpdateTask writes a task's fields, including its version.
	UpdateTask(ctx context.Context, t *Task) error
	// TeamRef finds a team by ID (apperr.NotFound when there is none).
	TeamRef(ctx context.Context, id uuid.UUID) (*incident.TeamRef, error)
	// OrgCanSee reports whether an organisation as a whole sees the
	// incident (the visibility rule for access.OrgOnly).
	OrgCanSee(ctx context.Context, orgID, incidentID uuid.UUID) (bool, error)
	// ShiftTasks moves the tasks between positions from and to (from
	// excluded, to included) one place towards from, bumping their
	// versions: the room a task moving from → to needs.
	ShiftTasks(ctx context.Context, incidentID uuid.UUID, from, to int, now time.Time) error
}

// Assignee is a user as an assignment sees them.
type Assignee struct {
	ID       uuid.UUID
	Email    string
	Disabled bool
	// Principal is who the user acts as; its role and Relations decide
	// whether they may work on the incident's tasks (access.WriteTask).
	Principal access.Principal
	// SeesIncident is the visibility rule applied to the user.
	SeesIncident bool
	// Relations are the user's relations to the incident (when they see it).
	Relations access.Relations
}

// IncidentReader reads incidents through the visibility rule
// (*incident.Service).
type IncidentReader interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Service holds the task use cases.
type Service struct {
	store     Store
	incidents IncidentReader
	now       func() time.Time
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(store Store, incidents IncidentReader, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, incidents: incidents, now: now}
}

// Create adds a task at the end of an incident's list, with its
// task_created event, in one transaction. Errors: apperr.Invalid naming the
// field, apperr.NotFound for an incident p does not see, apperr.Forbidden
// where the write table does not let p's role in its relations to the
// incident write tasks (task.write), apperr.Conflict for a closed
// incident.
func (s *Service) Create(ctx context.Context, p access.Principal, incidentIDOrRef string, in NewTask) (*Task, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var t *Task
	err := s.store.InTaskTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		t, err = s.create(ctx, tx, p, incidentIDOrRef, in)
		return err
	})
	return t, err
}

// CreateInTx is Create inside the caller's transaction: the task and its
// event commit or roll back with whatever else the caller writes there.
// It is how playbooks create tasks: the playbook's transaction interface
// embeds Tx (the postgres transaction implements both), and p is
// access.System, which records the task as created by certdesk (CreatedBy
// nil). The incident is locked until the transaction ends. Errors are
// those of Create.
func (s *Service) CreateInTx(ctx context.Context, tx Tx, p access.Principal, incidentID uuid.UUID, in NewTask) (*Task, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.create(ctx, tx, p, incidentID.String(), in)
}

// CreateOnIncident is CreateInTx on an incident the caller has already
// read and locked in tx for p (a playbook step holds its incident's lock):
// it does not read the incident again. Errors are those of Create.
func (s *Service) CreateOnIncident(ctx context.Context, tx Tx, p access.Principal, inc *incident.Incident, in NewTask) (*Task, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.createOn(ctx, tx, p, inc, in)
}

func (s *Service) create(ctx context.Context, tx Tx, p access.Principal, idOrRef string, in NewTask) (*Task, error) {
	inc, err := lockIncident(ctx, tx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	return s.createOn(ctx, tx, p, inc, in)
}

// createOn creates a task on inc, which tx has locked for p.
func (s *Service) createOn(ctx context.Context, tx Tx, p access.Principal, inc *incident.Incident, in NewTask) (*Task, error) {
	if err := p.RequireWrite(access.WriteTask, inc.Relations); err != nil {
		return nil, err
	}
	if inc.Status == incident.Closed {
		return nil, apperr.New(apperr.Conflict, "incident %s is closed: it takes no new tasks", inc.Reference)
	}
	now := s.now().UTC()
	t := &Task{
		ID: uuid.New(), IncidentID: inc.ID, Title: in.Title, Description: in.Description, DueAt: utc(in.DueAt),
		Status: Open, CreatedBy: p.UserIDPtr(), CreatedAt: now, UpdatedAt: now, Version: 1,
		IncidentReference: inc.Reference, IncidentTitle: inc.Title,
	}
	if !p.System {
		t.CreatedByEmail = p.Email
	}
	if in.Assignee != "" {
		a, err := assignee(ctx, tx, inc.ID, in.Assignee)
		if err != nil {
			return nil, err
		}
		t.AssigneeID, t.AssigneeEmail = &a.ID, a.Email
	}
	if in.AssigneeTeam != "" {
		tm, err := assigneeTeam(ctx, tx, p, inc.ID, in.AssigneeTeam)
		if err != nil {
			return nil, err
		}
		t.AssigneeTeamID, t.AssigneeTeamName = &tm.ID, tm.Name
	}
	if err := tx.InsertTask(ctx, t); err != nil {
		return nil, err
	}
	data := map[string]any{"task_id": t.ID, "title": t.Title, "status": t.Status, "position": t.Position,
		"assignee": nullable(t.AssigneeEmail), "assignee_team": nullable(t.AssigneeTeamName), "due_at": t.DueAt}
	if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
		Kind: EventCreated, Data: incident.MustJSON(data), OccurredAt: now}); err != nil {
		return nil, err
	}
	return t, nil
}

// assignee resolves and checks an assignee reference: an active user who
// sees the incident and whom the write table lets work on its tasks.
func assignee(ctx context.Context, tx Tx, incidentID uuid.UUID, ref string) (*Assignee, error) {
	a, err := tx.TaskAssignee(ctx, incidentID, ref)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, apperr.Fields{{Field: "assignee", Rule: "exists", Message: "no user has this e-mail or ID"}}.Err()
	case err != nil:
		return nil, err
	case a.Disabled:
		return nil, apperr.Fields{{Field: "assignee", Rule: "active", Message: "the user is disabled"}}.Err()
	case !a.SeesIncident:
		return nil, apperr.Fields{{Field: "assignee", Rule: "sees_incident", Message: "the user cannot see this incident; share it or name them a participant first"}}.Err()
	case !a.Principal.Can(access.WriteTask):
		return nil, apperr.Fields{{Field: "assignee", Rule: "role", Message: fmt.Sprintf("a %s cannot work on tasks", a.Principal.Role)}}.Err()
	case !a.Principal.MayWrite(access.WriteTask, a.Relations):
		return nil, apperr.Fields{{Field: "assignee", Rule: "relation", Message: fmt.Sprintf(
			"a %s cannot work on this incident's tasks in their relation to it (%s)", a.Principal.Role, a.Relations)}}.Err()
	}
	return a, nil
}

// assigneeTeam resolves and checks a team for a task of the incident: a
// team of p's organisation (any other, or none by that ID, is "exists"),
// whose organisation sees the incident as a whole ("visibility").
func assigneeTeam(ctx context.Context, tx Tx, p access.Principal, incidentID uuid.UUID, id string) (*incident.TeamRef, error) {
	notFound := apperr.Fields{{Field: "assignee_team", Rule: "exists", Message: "no team of your organisation has this ID"}}.Err()
	tid, err := uuid.Parse(id)
	if err != nil {
		return nil, notFound
	}
	tm, err := tx.TeamRef(ctx, tid)
	if apperr.Is(err, apperr.NotFound) || (err == nil && !p.System && tm.OrgID != p.OrgID) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	sees, err := tx.OrgCanSee(ctx, tm.OrgID, incidentID)
	if err != nil {
		return nil, err
	}
	if !sees {
		return nil, apperr.Fields{{Field: "assignee_team", Rule: "visibility",
			Message: "the team's organisation must see the incident as a whole (assign a person instead)"}}.Err()
	}
	return tm, nil
}

// Get returns one task of an incident p sees. An unknown task, or one of
// another incident, is apperr.NotFound.
func (s *Service) Get(ctx context.Context, p access.Principal, incidentIDOrRef, taskID string) (*Task, error) {
	inc, err := s.incidents.Get(ctx, p, incidentIDOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, err
	}
	tid, err := parseTaskID(taskID)
	if err != nil {
		return nil, err
	}
	return s.store.Task(ctx, p, inc.ID, tid)
}

// List returns a page of an incident's tasks in position order. status ""
// means any.
func (s *Service) List(ctx context.Context, p access.Principal, incidentIDOrRef string, status StatusFilter, page incident.Page) (*incident.Incident, []Task, string, error) {
	if status == "" {
		status = Any
	}
	if err := status.Validate(); err != nil {
		return nil, nil, "", err
	}
	inc, err := s.incidents.Get(ctx, p, incidentIDOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	ts, next, err := s.store.Tasks(ctx, p, inc.ID, status.Statuses(), page)
	return inc, ts, next, err
}

// MaxRequests bounds how many requests Requests returns.
const MaxRequests = 100

// Requests returns what is asked of an incident's reporting organisation:
// the tasks of inc (read for p with incident.Service.Get) assigned to
// users of that organisation — the CERT's requests to the reporter, open
// and in-progress ones first, then done and cancelled ones, each in
// position order; at most MaxRequests. The store applies the visibility
// rule again.
func (s *Service) Requests(ctx context.Context, p access.Principal, inc *incident.Incident) ([]Task, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, err
	}
	return s.store.OrgTasks(ctx, p, inc.ID, inc.ReportingOrgID, MaxRequests)
}

// QueueFilter narrows a user's queue.
type QueueFilter struct {
	// Status is a status, "active" (open and in_progress) or "any";
	// "" means active.
	Status StatusFilter
	// Incident is an incident's ID or reference; "" means every incident.
	Incident string
}

// Queue returns a page of the tasks assigned to p, and the unclaimed tasks
// of p's teams, across the incidents p may see, by due time (tasks without
// one last), then creation time. An
// incident filter p cannot see is a field error on "incident".
func (s *Service) Queue(ctx context.Context, p access.Principal, f QueueFilter, page incident.Page) ([]Task, string, error) {
	if f.Status == "" {
		f.Status = Active
	}
	if err := f.Status.Validate(); err != nil {
		return nil, "", err
	}
	if p.System || p.UserID == uuid.Nil {
		return nil, "", apperr.New(apperr.Invalid, "certdesk itself has no task queue")
	}
	var incID *uuid.UUID
	if f.Incident != "" {
		inc, err := s.incidents.Get(ctx, p, f.Incident)
		if apperr.Is(err, apperr.NotFound) {
			return nil, "", apperr.Fields{{Field: "incident", Rule: "exists", Message: "no incident you can see has this ID or reference"}}.Err()
		} else if err != nil {
			return nil, "", err
		}
		incID = &inc.ID
	}
	page.Limit = incident.ClampLimit(page.Limit)
	return s.store.TaskQueue(ctx, p, f.Status.Statuses(), incID, page)
}

// Update changes a task and records one timeline event: task_completed
// when it becomes done, task_cancelled when it becomes cancelled,
// task_updated otherwise, each with the changed fields (old and new; the
// description only as changed). A patch that changes nothing writes
// nothing. With ifVersion, a task whose version differs is
// apperr.Precondition with the current version in Details
// ("current_version"); without it, the last write wins. Errors also:
// apperr.Invalid naming the field, apperr.NotFound (incident or task),
// apperr.Forbidden, apperr.Conflict for a transition that is not allowed
// (Details "allowed") or a reopening on a closed incident.
func (s *Service) Update(ctx context.Context, p access.Principal, incidentIDOrRef, taskID string, patch Patch, ifVersion *int64) (*Task, error) {
	if err := patch.Validate(); err != nil {
		return nil, err
	}
	var t *Task
	err := s.store.InTaskTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := lockIncident(ctx, tx, p, incidentIDOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.WriteTask, inc.Relations); err != nil {
			return err
		}
		tid, err := parseTaskID(taskID)
		if err != nil {
			return err
		}
		if t, err = tx.LockTask(ctx, inc.ID, tid); err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != t.Version {
			return &apperr.Error{Code: apperr.Precondition,
				Message: fmt.Sprintf("the task has changed: it is at version %d, not %d", t.Version, *ifVersion),
				Details: map[string]any{"current_version": t.Version}}
		}
		return s.apply(ctx, tx, p, inc, t, patch)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// change is one changed field of a task_updated event.
type change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

func (s *Service) apply(ctx context.Context, tx Tx, p access.Principal, inc *incident.Incident, t *Task, patch Patch) error {
	now := s.now().UTC()
	changes := map[string]any{}
	if patch.Title != nil && *patch.Title != t.Title {
		changes["title"] = change{t.Title, *patch.Title}
		t.Title = *patch.Title
	}
	if patch.Description != nil && *patch.Description != t.Description {
		changes["description"] = map[string]bool{"changed": true}
		t.Description = *patch.Description
	}
	if patch.Assignee != nil {
		if *patch.Assignee == "" {
			if t.AssigneeID != nil {
				changes["assignee"] = change{t.AssigneeEmail, nil}
				t.AssigneeID, t.AssigneeEmail = nil, ""
			}
		} else {
			a, err := assignee(ctx, tx, inc.ID, *patch.Assignee)
			if err != nil {
				return err
			}
			if t.AssigneeID == nil || *t.AssigneeID != a.ID {
				changes["assignee"] = change{nullable(t.AssigneeEmail), a.Email}
				t.AssigneeID, t.AssigneeEmail = &a.ID, a.Email
			}
		}
	}
	if patch.AssigneeTeam != nil {
		if *patch.AssigneeTeam == "" {
			if t.AssigneeTeamID != nil {
				changes["assignee_team"] = change{t.AssigneeTeamName, nil}
				t.AssigneeTeamID, t.AssigneeTeamName = nil, ""
			}
		} else {
			tm, err := assigneeTeam(ctx, tx, p, inc.ID, *patch.AssigneeTeam)
			if err != nil {
				return err
			}
			if t.AssigneeTeamID == nil || *t.AssigneeTeamID != tm.ID {
				changes["assignee_team"] = change{nullable(t.AssigneeTeamName), tm.Name}
				t.AssigneeTeamID, t.AssigneeTeamName = &tm.ID, tm.Name
			}
		}
	}
	if patch.ClearDueAt && t.DueAt != nil {
		changes["due_at"] = change{t.DueAt, nil}
		t.DueAt = nil
	}
	if d := utc(patch.DueAt); d != nil && (t.DueAt == nil || !t.DueAt.Equal(*d)) {
		changes["due_at"] = change{t.DueAt, d}
		t.DueAt = d
	}
	if patch.Status != nil && *patch.Status != t.Status {
		next := *patch.Status
		if !t.Status.CanBecome(next) {
			return &apperr.Error{Code: apperr.Conflict,
				Message: fmt.Sprintf("a %s task can only be reopened (status open)", t.Status),
				Details: map[string]any{"allowed": t.Status.Next()}}
		}
		if t.Status.Finished() && inc.Status == incident.Closed {
			return apperr.New(apperr.Conflict, "incident %s is closed: its tasks cannot be reopened", inc.Reference)
		}
		changes["status"] = change{t.Status, next}
		t.Status = next
		if next == Done {
			t.CompletedAt = &now
		} else {
			t.CompletedAt = nil
		}
	}
	if patch.Position != nil && *patch.Position != t.Position {
		last, err := tx.LastTaskPosition(ctx, inc.ID)
		if err != nil {
			return err
		}
		to := *patch.Position
		if to > last {
			return apperr.Fields{{Field: "position", Rule: "max",
				Message: fmt.Sprintf("position must be between 1 and %d, the number of tasks", last)}}.Err()
		}
		if err := tx.ShiftTasks(ctx, inc.ID, t.Position, to, now); err != nil {
			return err
		}
		changes["position"] = change{t.Position, to}
		t.Position = to
	}
	if len(changes) == 0 {
		return nil
	}
	t.UpdatedAt = now
	t.Version++
	if err := tx.UpdateTask(ctx, t); err != nil {
		return err
	}
	kind := EventUpdated
	if st, ok := changes["status"].(change); ok {
		switch st.New {
		case Done:
			kind = EventCompleted
		case Cancelled:
			kind = EventCancelled
		}
	}
	return tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: kind,
		Data: incident.MustJSON(map[string]any{"task_id": t.ID, "title": t.Title, "changes": changes}), OccurredAt: now})
}

// lockIncident locks an incident p sees. Anything that is neither a UUID
// nor a reference is not found without asking the database, which would
// refuse some strings (a NUL character) with an error of its own.
func lockIncident(ctx context.Context, tx Tx, p access.Principal, idOrRef string) (*incident.Incident, error) {
	if _, err := uuid.Parse(idOrRef); err != nil && !incident.IsReference(idOrRef) {
		return nil, apperr.New(apperr.NotFound, "incident %q not found", idOrRef)
	}
	return tx.LockIncident(ctx, p, idOrRef)
}

// parseTaskID reads a task ID from a path: anything but a UUID is an
// unknown task.
func parseTaskID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return uuid.Nil, apperr.New(apperr.NotFound, "task %q not found", s)
	}
	return id, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	return &u
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
