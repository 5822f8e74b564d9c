package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/google/uuid"
)

// exec is one run loaded, with its incident, inside a transaction that
// locks both. Its methods change the run and its steps in memory and
// append timeline events; flush writes what changed.
type exec struct {
	s        *Service
	tx       Tx
	inc      *incident.Incident
	run      *Run
	pb       *playbook.Playbook
	byID     map[string]*Step
	handlers map[string][]string
	now      time.Time
	runDirty bool
	// actor names who caused the change on the timeline; the playbook
	// itself unless a user acts (an approval, an answer, a cancel).
	actor   string
	actorID *uuid.UUID
	// hook is what the webhook request of this attempt got, sent before
	// the transaction.
	hook *hookResult
	// events and jobs wait for flush, which writes them with the steps:
	// the events with the steps' and the run's changes in one statement,
	// the jobs in one insert before it (the steps record their IDs).
	events []*incident.Event
	jobs   []queuedJob
}

// queuedJob is a step's job that flush inserts.
type queuedJob struct {
	st   *Step
	job  StepJob
	opts *incident.JobOpts
}

// load locks the run (the caller has locked the incident inc) and parses
// its pinned playbook.
func (s *Service) load(ctx context.Context, tx Tx, inc *incident.Incident, runID uuid.UUID) (*exec, error) {
	r, err := tx.LockRun(ctx, inc.ID, runID)
	if err != nil {
		return nil, err
	}
	return s.newExec(tx, inc, r)
}

func (s *Service) newExec(tx Tx, inc *incident.Incident, r *Run) (*exec, error) {
	pb, err := s.pinned(r)
	if err != nil {
		return nil, err
	}
	e := &exec{s: s, tx: tx, inc: inc, run: r, pb: pb, byID: map[string]*Step{}, handlers: pb.Handlers(),
		now: s.clock(), actor: "playbook " + r.PlaybookID}
	for i := range r.Steps {
		e.byID[r.Steps[i].ID] = &r.Steps[i]
	}
	return e, nil
}

// def returns the playbook's definition of a step.
func (e *exec) def(st *Step) *playbook.Step { return e.pb.Step(st.ID) }

// event appends a timeline event about the run.
func (e *exec) event(ctx context.Context, kind incident.EventKind, data map[string]any) error {
	data["run_id"] = e.run.ID
	data["playbook"] = e.run.PlaybookID
	data["version"] = e.run.Version
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("runbook: event data: %w", err)
	}
	e.events = append(e.events, &incident.Event{IncidentID: e.inc.ID, ActorUserID: e.actorID, Actor: e.actor,
		Kind: kind, Data: b, OccurredAt: e.now})
	return nil
}

// stepEvent records a step's new status on the timeline.
func (e *exec) stepEvent(ctx context.Context, st *Step, extra map[string]any) error {
	data := map[string]any{"step": st.ID, "action": st.Action, "status": st.Status, "attempt": st.Attempts}
	if st.LastError != "" && (st.Status == Failed || st.Status == Running) {
		data["error"] = st.LastError
	}
	for k, v := range extra {
		data[k] = v
	}
	st.dirty = true
	return e.event(ctx, EventStep, data)
}

// flush writes what changed: the queued jobs in one insert, then the
// timeline events, the steps and the run in one statement.
func (e *exec) flush(ctx context.Context) error {
	if len(e.jobs) > 0 {
		jobs := make([]incident.Job, len(e.jobs))
		opts := make([]*incident.JobOpts, len(e.jobs))
		for i, q := range e.jobs {
			jobs[i], opts[i] = q.job, q.opts
		}
		ids, err := e.tx.EnqueueJobs(ctx, jobs, opts)
		if err != nil {
			return err
		}
		for i, q := range e.jobs {
			q.st.JobID, q.st.dirty = &ids[i], true
		}
		e.jobs = nil
	}
	var steps []*Step
	for i := range e.run.Steps {
		if st := &e.run.Steps[i]; st.dirty {
			steps = append(steps, st)
		}
	}
	if err := e.tx.WriteRun(ctx, e.run, e.runDirty, steps, e.events); err != nil {
		return err
	}
	for _, st := range steps {
		st.dirty = false
	}
	e.events, e.runDirty = nil, false
	return nil
}

// env is what the step's when condition sees: the incident and the outputs
// of the run's steps.
func (e *exec) env() playbook.Env {
	env := playbook.NewEnv(*e.inc)
	for i := range e.run.Steps {
		st := &e.run.Steps[i]
		out := st.Output
		if out == nil || st.Status != Succeeded {
			out = map[string]any{}
		}
		env.Steps[st.ID] = playbook.StepResult{Output: out}
	}
	return env
}

// queue queues a job for a step, to be inserted by flush, and makes it
// the step's job.
func (e *exec) queue(ctx context.Context, st *Step, purpose string, attempt int, at time.Time) error {
	opts := &incident.JobOpts{}
	if at.After(e.now) {
		opts.ScheduledAt = at
	}
	e.jobs = append(e.jobs, queuedJob{st: st, opts: opts,
		job: StepJob{RunID: e.run.ID, StepID: st.ID, Attempt: attempt, Purpose: purpose, Action: st.Action}})
	st.JobID, st.dirty = nil, true
	return nil
}

// cancelJob cancels the step's job, if any: one flush has yet to insert
// is dropped, one in the queue is cancelled.
func (e *exec) cancelJob(ctx context.Context, st *Step) error {
	kept := e.jobs[:0]
	for _, q := range e.jobs {
		if q.st != st {
			kept = append(kept, q)
		}
	}
	e.jobs = kept
	if st.JobID == nil {
		return nil
	}
	if err := e.tx.CancelJob(ctx, *st.JobID); err != nil {
		return err
	}
	st.JobID = nil
	st.dirty = true
	return nil
}

// advance starts every step that is ready, skips the ones whose condition
// is false, and ends the run when nothing is left to do.
func (e *exec) advance(ctx context.Context) error {
	if e.run.State != RunRunning {
		return nil
	}
	for {
		progressed := false
		for _, i := range e.pb.Order() {
			st := e.byID[e.pb.Steps[i].ID]
			if st == nil || st.Status != Pending {
				continue
			}
			if _, handler := e.handlers[st.ID]; handler && st.JumpedFrom == "" {
				continue
			}
			if !e.ready(st) {
				continue
			}
			progressed = true
			if err := e.begin(ctx, st); err != nil {
				return err
			}
		}
		if progressed {
			continue
		}
		if e.active() {
			return nil
		}
		// Nothing runs or waits: handler steps nobody jumped to are not
		// needed. Skipping them may make their dependents ready.
		skipped := false
		for i := range e.run.Steps {
			st := &e.run.Steps[i]
			from, handler := e.handlers[st.ID]
			if st.Status == Pending && handler && st.JumpedFrom == "" {
				st.Status, st.FinishedAt = Skipped, &e.now
				if err := e.stepEvent(ctx, st, map[string]any{"reason": "runs only on timeout/failure of " + strings.Join(from, ", ")}); err != nil {
					return err
				}
				skipped = true
			}
		}
		if skipped {
			continue
		}
		return e.finish(ctx, RunSucceeded, "")
	}
}

// ready reports whether every need of the step is done.
func (e *exec) ready(st *Step) bool {
	for _, n := range e.def(st).Needs {
		if dep := e.byID[n]; dep == nil || !dep.done() {
			return false
		}
	}
	return true
}

// active reports whether a step runs or waits.
func (e *exec) active() bool {
	for i := range e.run.Steps {
		if s := e.run.Steps[i].Status; s == Running || s == Waiting {
			return true
		}
	}
	return false
}

// begin evaluates a ready step's condition and starts or skips it.
func (e *exec) begin(ctx context.Context, st *Step) error {
	d := e.def(st)
	ok, err := d.When.Eval(ctx, e.env())
	if err != nil || !ok {
		reason := "when is false: "
		if d.When != nil {
			reason += d.When.Source
		}
		if err != nil {
			reason = "condition failed: " + err.Error()
		}
		st.Status, st.FinishedAt = Skipped, &e.now
		return e.stepEvent(ctx, st, map[string]any{"reason": reason})
	}
	st.Status, st.StartedAt = Running, &e.now
	if err := e.queue(ctx, st, PurposeRun, st.Attempts+1, e.now); err != nil {
		return err
	}
	extra := map[string]any{}
	if st.JumpedFrom != "" {
		extra["jumped_from"] = st.JumpedFrom
	}
	return e.stepEvent(ctx, st, extra)
}

// succeed finishes a step with its output and moves the run on.
func (e *exec) succeed(ctx context.Context, st *Step, output map[string]any, extra map[string]any) error {
	if output == nil {
		output = map[string]any{}
	}
	st.Status, st.Output, st.FinishedAt, st.WaitingFor, st.LastError = Succeeded, output, &e.now, "", ""
	if err := e.cancelJob(ctx, st); err != nil {
		return err
	}
	if extra == nil {
		extra = map[string]any{}
	}
	if len(output) > 0 {
		extra["output"] = output
	}
	if err := e.stepEvent(ctx, st, extra); err != nil {
		return err
	}
	return e.advance(ctx)
}

// fail finishes a step that failed for good (its attempts used up, its
// timeout passed, its approval refused) as its on_failure or on_timeout
// says.
func (e *exec) fail(ctx context.Context, st *Step, msg string, timedOut bool) error {
	d := e.def(st)
	then, what := d.OnFailure, "on_failure"
	if timedOut {
		then, what = d.OnTimeout, "on_timeout"
	}
	st.Status, st.LastError, st.FinishedAt, st.WaitingFor = Failed, truncate(msg, 2000), &e.now, ""
	if err := e.cancelJob(ctx, st); err != nil {
		return err
	}
	st.Handled = then != playbook.Fail
	extra := map[string]any{what: then}
	if len(st.Output) > 0 {
		extra["output"] = st.Output
	}
	if timedOut {
		extra["timed_out"] = true
	}
	if err := e.stepEvent(ctx, st, extra); err != nil {
		return err
	}
	switch then {
	case playbook.Fail:
		return e.finish(ctx, RunFailed, fmt.Sprintf("step %s failed: %s", st.ID, st.LastError))
	case playbook.Continue:
	default:
		if target := e.byID[then]; target != nil && target.Status == Pending && target.JumpedFrom == "" {
			target.JumpedFrom, target.dirty = st.ID, true
		}
	}
	return e.advance(ctx)
}

// finish ends the run: the steps not finished are cancelled with their jobs.
func (e *exec) finish(ctx context.Context, state State, msg string) error {
	if e.run.State != RunRunning {
		return nil
	}
	for i := range e.run.Steps {
		st := &e.run.Steps[i]
		if st.Status.Finished() {
			continue
		}
		if err := e.cancelJob(ctx, st); err != nil {
			return err
		}
		st.Status, st.FinishedAt, st.WaitingFor = Cancelled, &e.now, ""
		if err := e.stepEvent(ctx, st, nil); err != nil {
			return err
		}
	}
	e.run.State, e.run.FinishedAt, e.run.Error, e.runDirty = state, &e.now, truncate(msg, 2000), true
	counts := map[Status]int{}
	for _, st := range e.run.Steps {
		counts[st.Status]++
	}
	data := map[string]any{"state": state, "name": e.run.Name, "steps": counts}
	if msg != "" {
		data["error"] = e.run.Error
	}
	return e.event(ctx, EventFinished, data)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// start inserts a run of pb on inc and starts its first steps, in tx. It
// returns nil and no error when a run of the same version exists.
func (s *Service) start(ctx context.Context, tx Tx, inc *incident.Incident, pb *playbook.Playbook, trigger string, by access.Principal) (*Run, error) {
	now := s.clock()
	r := &Run{ID: uuid.New(), IncidentID: inc.ID, PlaybookID: pb.ID, Version: pb.Version, Name: pb.Name,
		Hash: pb.Hash, Source: pb.Source, Trigger: trigger, State: RunRunning, StartedBy: by.UserIDPtr(),
		StartedByName: by.Name(), StartedAt: now}
	if r.Hash == "" {
		r.Hash = playbook.HashSource(pb.Source)
	}
	for i, d := range pb.Steps {
		r.Steps = append(r.Steps, Step{RunID: r.ID, ID: d.ID, Position: i + 1, Action: d.Action, Status: Pending,
			Output: map[string]any{}})
	}
	inserted, err := tx.InsertRun(ctx, r)
	if err != nil || !inserted {
		return nil, err
	}
	e, err := s.newExec(tx, inc, r)
	if err != nil {
		return nil, err
	}
	if !by.System {
		e.actor, e.actorID = by.Name(), by.UserIDPtr()
	}
	if err := e.event(ctx, EventStarted, map[string]any{"name": pb.Name, "trigger": trigger, "content_hash": r.Hash,
		"steps": len(r.Steps)}); err != nil {
		return nil, err
	}
	e.actor, e.actorID = "playbook "+pb.ID, nil
	if err := e.advance(ctx); err != nil {
		return nil, err
	}
	return r, e.flush(ctx)
}
