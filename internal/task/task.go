// Package task is an incident's work list: tasks with a title, a Markdown
// description, an assignee, a due time, a status and a position, created by
// people or by playbooks, and each user's queue of the tasks assigned to
// them across the incidents they may see.
//
// The rules:
//
//   - Reading tasks needs an incident the caller sees (else
//     apperr.NotFound); creating and changing them also needs the write
//     table's task.write for the caller's role in its relations to the
//     incident (access.WriteTask; else apperr.Forbidden).
//   - A closed incident takes no new tasks and none of its tasks can be
//     reopened (apperr.Conflict); its tasks can still be edited, completed
//     and cancelled, so that the remaining work can be tidied up.
//   - An assignee is an active user who sees the incident (the visibility
//     rule applied to that user) and whom the write table lets work on its
//     tasks; anyone else is a field error on "assignee".
//   - Status moves freely between open, in_progress, done and cancelled,
//     except that a done or cancelled task can only be reopened (to open).
//     Becoming done stamps CompletedAt; leaving done clears it.
//   - Positions are 1..n within an incident: a new task goes last, and
//     moving a task shifts the ones in between so that no gap or duplicate
//     appears.
//   - Every change is one transaction with its timeline event
//     (task_created, task_updated, task_completed, task_cancelled).
package task

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Status is where a task stands.
type Status string

// The statuses.
const (
	Open       Status = "open"
	InProgress Status = "in_progress"
	Done       Status = "done"
	Cancelled  Status = "cancelled"
)

// Statuses lists every status.
var Statuses = []Status{Open, InProgress, Done, Cancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Finished reports whether s is done or cancelled.
func (s Status) Finished() bool { return s == Done || s == Cancelled }

// CanBecome reports whether a task in status s may move to next. Staying
// in the same status is always allowed (it changes nothing); a finished
// task can only be reopened.
func (s Status) CanBecome(next Status) bool {
	if !next.Valid() {
		return false
	}
	if s == next {
		return true
	}
	if s.Finished() {
		return next == Open
	}
	return true
}

// Next lists the statuses a task in s may move to, itself excluded.
func (s Status) Next() []Status {
	var out []Status
	for _, n := range Statuses {
		if n != s && s.CanBecome(n) {
			out = append(out, n)
		}
	}
	return out
}

// The timeline event kinds of tasks.
const (
	EventCreated   incident.EventKind = "task_created"
	EventUpdated   incident.EventKind = "task_updated"
	EventCompleted incident.EventKind = "task_completed"
	EventCancelled incident.EventKind = "task_cancelled"
)

// Limits on field sizes, in characters.
const (
	MaxTitle       = 200
	MaxDescription = 20_000
)

// Task is one piece of work on an incident.
type Task struct {
	ID          uuid.UUID
	IncidentID  uuid.UUID
	Title       string
	Description string // Markdown
	AssigneeID  *uuid.UUID
	// AssigneeTeamID is the team the task is assigned to; with no
	// AssigneeID it is the team's unclaimed task, in every member's queue.
	AssigneeTeamID *uuid.UUID
	DueAt          *time.Time
	Status         Status
	Position       int // 1..n within the incident
	CreatedBy      *uuid.UUID
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time // set while the task is done
	Version        int64

	// Filled on reads.
	IncidentReference string
	IncidentTitle     string
	AssigneeEmail     string // "" when unassigned
	AssigneeTeamName  string // "" without a team
	CreatedByEmail    string // "" when certdesk (a playbook) created it
	AssigneeName      string // the assignee's display name; "" when unassigned
	CreatedByName     string // the creator's display name; "" when certdesk created it
}

// NewTask is the input of Create and CreateInTx. New tasks are open and
// go last.
type NewTask struct {
	Title       string
	Description string
	// Assignee is the assignee's e-mail (any case) or user ID; "" leaves
	// the task unassigned.
	Assignee string
	// AssigneeTeam is a team's ID; "" assigns no team.
	AssigneeTeam string
	DueAt        *time.Time
}

// Validate names every field that breaks a rule. It trims the title and
// the assignee.
func (n *NewTask) Validate() error {
	var fs apperr.Fields
	n.Title = strings.TrimSpace(n.Title)
	n.Assignee = strings.TrimSpace(n.Assignee)
	checkTitle(&fs, n.Title)
	checkDescription(&fs, n.Description)
	checkText(&fs, "assignee", n.Assignee)
	n.AssigneeTeam = strings.TrimSpace(n.AssigneeTeam)
	checkText(&fs, "assignee_team", n.AssigneeTeam)
	return fs.Err()
}

// Patch is the input of Update. Nil fields stay as they are.
type Patch struct {
	Title       *string
	Description *string
	// Assignee is an e-mail or user ID; "" unassigns.
	Assignee *string
	// AssigneeTeam is a team's ID; "" removes the team.
	AssigneeTeam *string
	// DueAt sets the due time; ClearDueAt removes it.
	DueAt      *time.Time
	ClearDueAt bool
	Status     *Status
	// Position moves the task to this place (1 is first); the tasks in
	// between shift by one.
	Position *int
}

// Validate names every field that breaks a rule that does not depend on
// the task. It trims the title and the assignee.
func (p *Patch) Validate() error {
	var fs apperr.Fields
	if p.Title != nil {
		t := strings.TrimSpace(*p.Title)
		p.Title = &t
		checkTitle(&fs, t)
	}
	if p.Description != nil {
		checkDescription(&fs, *p.Description)
	}
	if p.Assignee != nil {
		a := strings.TrimSpace(*p.Assignee)
		p.Assignee = &a
		checkText(&fs, "assignee", a)
	}
	if p.AssigneeTeam != nil {
		a := strings.TrimSpace(*p.AssigneeTeam)
		p.AssigneeTeam = &a
		checkText(&fs, "assignee_team", a)
	}
	if p.DueAt != nil && p.ClearDueAt {
		fs.Add("due_at", "conflict", "due_at cannot be set and cleared at once")
	}
	if p.Status != nil && !p.Status.Valid() {
		fs.Add("status", "enum", "status must be one of: %s", list(Statuses))
	}
	if p.Position != nil && *p.Position < 1 {
		fs.Add("position", "min", "position must be 1 or more")
	}
	return fs.Err()
}

// Empty reports whether the patch changes nothing.
func (p *Patch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Assignee == nil && p.AssigneeTeam == nil && p.DueAt == nil && !p.ClearDueAt &&
		p.Status == nil && p.Position == nil
}

func checkTitle(fs *apperr.Fields, title string) {
	switch l := utf8.RuneCountInString(title); {
	case l == 0:
		fs.Add("title", "required", "title is required")
	case l > MaxTitle:
		fs.Add("title", "max_length", "title must be at most %d characters", MaxTitle)
	}
	checkText(fs, "title", title)
}

func checkDescription(fs *apperr.Fields, d string) {
	if utf8.RuneCountInString(d) > MaxDescription {
		fs.Add("description", "max_length", "description must be at most %d characters", MaxDescription)
	}
	checkText(fs, "description", d)
}

// checkText refuses what PostgreSQL cannot store in text: invalid UTF-8
// and the NUL character.
func checkText(fs *apperr.Fields, field, s string) {
	if !utf8.ValidString(s) {
		fs.Add(field, "utf8", "%s must be valid UTF-8", field)
	}
	if strings.ContainsRune(s, 0) {
		fs.Add(field, "nul", "%s must not contain the NUL character", field)
	}
}

// StatusFilter selects tasks by status: one status, "active" (open and
// in_progress), or "any".
type StatusFilter string

// The filters beyond the single statuses.
const (
	Active StatusFilter = "active"
	Any    StatusFilter = "any"
)

// Statuses returns the statuses the filter selects; nil means all.
func (f StatusFilter) Statuses() []Status {
	switch f {
	case Any:
		return nil
	case Active:
		return []Status{Open, InProgress}
	}
	return []Status{Status(f)}
}

// Validate reports an unknown filter as a field error on "status".
func (f StatusFilter) Validate() error {
	if f == Active || f == Any || Status(f).Valid() {
		return nil
	}
	return apperr.Fields{{Field: "status", Rule: "enum",
		Message: "status must be one of: " + list(Statuses) + ", active, any"}}.Err()
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
