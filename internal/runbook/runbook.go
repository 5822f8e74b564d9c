// Package runbook runs playbooks: durable runs of a playbook's steps on an
// incident, each step its own River job.
//
// The rules (docs/playbooks.md, "Execution"):
//
//   - A run is one row per (incident, playbook, version), pinned to the
//     exact playbook source it started with (and its SHA-256). Every step
//     re-parses that pinned source, so editing a file never changes a run
//     in flight. A second trigger of the same version starts nothing.
//   - A step is a row. When its needs are done (succeeded, skipped, or
//     failed with on_failure/on_timeout continue or a step id), its when
//     condition is evaluated: false skips it, true makes it running and
//     queues its job, in the transaction of the change that made it ready.
//   - A step job locks the incident, then the run row (every writer of a
//     run takes the same two locks in that order, so an incident's runs
//     change one after another; the step rows are not locked), and acts
//     only when it is the step's current job and the step is in the state
//     that job expects; otherwise it completes doing nothing. The step's
//     effect, its status, the job's completion, the jobs of the steps that
//     become ready (one insert) and the timeline events commit in one
//     transaction, so a crash or a duplicate delivery never applies a step
//     twice.
//   - A failing attempt is retried after the step's backoff (doubling) as a
//     new job; when the attempts are used up, on_failure decides: fail
//     fails the run and cancels what remains, continue counts the step as
//     done, a step id also starts that step.
//   - Handler steps (the targets of on_failure/on_timeout) run only when
//     jumped to; a run that ends without jumping to one skips it.
//   - wait, approval and input steps wait: wait for a duration with a
//     scheduled wake-up job, for an event until an incident.Bus handler
//     resumes them in the event's transaction (cancelling the timeout job),
//     approval and input until a user answers through the API.
//   - Every change of a run and of a step is a timeline event
//     (playbook_started, playbook_step, playbook_finished).
package runbook

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
)

// State is where a run stands.
type State string

// The run states.
const (
	RunRunning   State = "running"
	RunSucceeded State = "succeeded"
	RunFailed    State = "failed"
	RunCancelled State = "cancelled"
)

// Status is where a step stands.
type Status string

// The step statuses.
const (
	Pending   Status = "pending"   // its needs are not done yet (or, for a handler step, nobody jumped to it)
	Running   Status = "running"   // its job is queued, running, or scheduled for a retry
	Waiting   Status = "waiting"   // waiting for a duration, an event, an approval or an input
	Succeeded Status = "succeeded" // done
	Failed    Status = "failed"    // failed for good (handled: the run went on)
	Skipped   Status = "skipped"   // its condition was false, or it is a handler step nobody jumped to
	Cancelled Status = "cancelled" // the run ended (failed or cancelled) before it finished
)

// Finished reports whether the status is final.
func (s Status) Finished() bool {
	return s == Succeeded || s == Failed || s == Skipped || s == Cancelled
}

// The timeline event kinds of runs.
const (
	EventStarted  incident.EventKind = "playbook_started"
	EventStep     incident.EventKind = "playbook_step"
	EventFinished incident.EventKind = "playbook_finished"
)

// Run is one run of a playbook on an incident.
type Run struct {
	ID            uuid.UUID
	IncidentID    uuid.UUID
	PlaybookID    string
	Version       int
	Name          string
	Hash          string // SHA-256 of Source, hex
	Source        []byte // the playbook file as it was when the run started
	Trigger       string // an event of playbook.Events
	State         State
	StartedBy     *uuid.UUID // nil: a trigger
	StartedByName string
	StartedAt     time.Time
	FinishedAt    *time.Time
	Error         string
	Steps         []Step // in file order; filled by reads of one run and by the engine

	IncidentReference string // filled on reads
}

// Step is one step of a run.
type Step struct {
	RunID      uuid.UUID
	ID         string
	Position   int // file order
	Action     string
	Status     Status
	Attempts   int
	LastError  string
	Output     map[string]any
	JobID      *int64 // the job that acts on the step next
	WaitingFor string // see the playbook_steps table
	Handled    bool   // failed, but on_failure/on_timeout let the run go on
	JumpedFrom string // the step whose failure or timeout started this handler step
	StartedAt  *time.Time
	FinishedAt *time.Time
	Needs      []string // from the pinned playbook; filled on reads

	dirty bool
}

// done reports whether the step counts as finished for the steps that need it.
func (s *Step) done() bool {
	return s.Status == Succeeded || s.Status == Skipped || (s.Status == Failed && s.Handled)
}

// The purposes of a step job.
const (
	PurposeRun     = "run"     // an attempt at the step's action
	PurposeWake    = "wake"    // the end of a wait for a duration
	PurposeTimeout = "timeout" // the timeout of a waiting step
)

// StepJob acts on one step of a run. It is unique per (run, step, attempt,
// purpose): the step's attempts and its timers are distinct jobs, and none
// is ever queued twice.
type StepJob struct {
	RunID   uuid.UUID `json:"run_id" river:"unique"`
	StepID  string    `json:"step_id" river:"unique"`
	Attempt int       `json:"attempt" river:"unique"`
	Purpose string    `json:"purpose" river:"unique"`
	// Action is the step's action, so that a webhook attempt can send its
	// request before it locks anything.
	Action string `json:"action,omitempty"`
}

// Kind implements incident.Job.
func (StepJob) Kind() string { return "playbook.step" }

// Tx is what the engine does inside a transaction. The postgres
// transaction implements it together with the incident, task and notify
// transactions, so a step's effect and its bookkeeping share one.
type Tx interface {
	incident.Tx
	task.Tx
	notify.Tx
	// InsertRun inserts a run and its steps unless a run of the same
	// (incident, playbook, version) exists; false then.
	InsertRun(ctx context.Context, r *Run) (bool, error)
	// LockRunIncident reads the incident of a run as the system and locks
	// it until the end of the transaction, in one statement;
	// apperr.NotFound when there is no such run.
	LockRunIncident(ctx context.Context, runID uuid.UUID) (*incident.Incident, error)
	// LockRun reads a run of the incident with its steps, in one
	// statement, and locks the run row (not the step rows) until the end
	// of the transaction; apperr.NotFound when there is none. The caller
	// has locked the incident: every writer of a run locks its incident,
	// then the run, so the runs of an incident change one after another
	// and the steps read are the latest committed.
	LockRun(ctx context.Context, incidentID, runID uuid.UUID) (*Run, error)
	// WriteRun writes, in one statement, the timeline events (setting
	// their IDs, in the order given), the mutable columns of steps, and
	// the run's state, finished_at and error when runChanged.
	WriteRun(ctx context.Context, r *Run, runChanged bool, steps []*Step, events []*incident.Event) error
	// EnqueueJobs queues jobs in one statement and returns their IDs in
	// order; opts[i] are the options of jobs[i] (nil: none).
	EnqueueJobs(ctx context.Context, jobs []incident.Job, opts []*incident.JobOpts) ([]int64, error)
	// WaitingRuns lists the running runs of an incident that have a
	// waiting step.
	WaitingRuns(ctx context.Context, incidentID uuid.UUID) ([]uuid.UUID, error)
}

// Store is the persistence of runs. Reads take the principal they read
// for and apply the visibility rule to the run's incident.
type Store interface {
	// InRunTx runs fn in one database transaction.
	InRunTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Runs lists the runs of an incident p may see, newest first.
	Runs(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]Run, error)
	// Run returns one run of an incident p may see, with its steps.
	Run(ctx context.Context, p access.Principal, incidentID, runID uuid.UUID) (*Run, error)
}

// Escalator asks another organisation to take over or assist, for an
// escalate step. The escalation service implements it; to is "parent" or
// an organisation slug, kind "coordinate" or "assist".
type Escalator interface {
	EscalateForPlaybook(ctx context.Context, tx incident.Tx, inc *incident.Incident, to, kind, reason string) (escalationID string, err error)
}
