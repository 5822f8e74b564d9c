package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders schema errors.
var printer = message.NewPrinter(language.English)

// Start starts a playbook on an incident by hand. Errors: apperr.NotFound
// for an incident p does not see; apperr.Forbidden where the write table
// does not allow playbook.run (responders, coordinators and admins of the
// reporting and coordinating organisations and the CERTs above);
// apperr.Invalid for an unknown playbook or one without a manual trigger;
// apperr.Conflict when the manual trigger's condition does not hold or a
// run of that playbook version exists (Details["run_id"]).
func (s *Service) Start(ctx context.Context, p access.Principal, idOrRef, playbookID string) (*Run, error) {
	var fs apperr.Fields
	if strings.TrimSpace(playbookID) == "" {
		fs.Add("playbook", "required", "playbook is required")
	}
	fs.Text("playbook", playbookID, 64)
	if err := fs.Err(); err != nil {
		return nil, err
	}
	var run *Run
	err := s.store.InRunTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := lockIncident(ctx, tx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.RunPlaybook, inc.Relations); err != nil {
			return err
		}
		var pb *playbook.Playbook
		for _, c := range s.catalogue() {
			if c.ID == playbookID {
				pb = c
			}
		}
		if pb == nil {
			return apperr.Fields{{Field: "playbook", Rule: "exists", Message: fmt.Sprintf("there is no playbook %q", playbookID)}}.Err()
		}
		if !slices.ContainsFunc(pb.Triggers, func(t playbook.Trigger) bool { return t.On == "manual" }) {
			return apperr.Fields{{Field: "playbook", Rule: "manual", Message: fmt.Sprintf("playbook %q has no manual trigger", playbookID)}}.Err()
		}
		if !pb.Triggered(ctx, "manual", playbook.NewEnv(*inc)) {
			return apperr.New(apperr.Conflict, "the manual trigger's condition of playbook %q does not hold for this incident", playbookID)
		}
		run, err = s.start(ctx, tx, inc, pb, "manual", p)
		if err != nil {
			return err
		}
		if run == nil {
			return &apperr.Error{Code: apperr.Conflict,
				Message: fmt.Sprintf("playbook %q version %d has already run on this incident", pb.ID, pb.Version)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, p, run.IncidentID.String(), run.ID.String())
}

// List returns an incident p sees and its runs, newest first.
func (s *Service) List(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, []Run, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, nil, err
	}
	rs, err := s.store.Runs(ctx, p, inc.ID)
	if err != nil {
		return nil, nil, err
	}
	for i := range rs {
		s.fillNeeds(&rs[i])
	}
	return inc, rs, nil
}

// fillNeeds fills the steps' needs from the run's pinned playbook.
func (s *Service) fillNeeds(r *Run) {
	pb, err := s.pinned(r)
	if err != nil {
		return
	}
	for i := range r.Steps {
		if d := pb.Step(r.Steps[i].ID); d != nil {
			r.Steps[i].Needs = d.Needs
		}
	}
}

// Get returns one run of an incident p sees, with its steps and their needs.
func (s *Service) Get(ctx context.Context, p access.Principal, idOrRef, runID string) (*Run, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, err
	}
	id, err := parseRunID(runID)
	if err != nil {
		return nil, err
	}
	r, err := s.store.Run(ctx, p, inc.ID, id)
	if err != nil {
		return nil, err
	}
	s.fillNeeds(r)
	return r, nil
}

// Cancel cancels a running run: its pending and scheduled jobs are
// cancelled and its unfinished steps become cancelled. Errors as Start's;
// apperr.Conflict for a run that has ended.
func (s *Service) Cancel(ctx context.Context, p access.Principal, idOrRef, runID string) (*Run, error) {
	var incID uuid.UUID
	err := s.inRun(ctx, p, idOrRef, runID, access.RunPlaybook, func(ctx context.Context, e *exec) error {
		incID = e.inc.ID
		if e.run.State != RunRunning {
			return apperr.New(apperr.Conflict, "the run has ended (%s)", e.run.State)
		}
		return e.finish(ctx, RunCancelled, "cancelled by "+p.Name())
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, p, incID.String(), runID)
}

// Decision is an approval's answer.
type Decision string

// The decisions.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
)

// MaxComment bounds an approval's comment.
const MaxComment = 2000

// Decide approves or rejects a waiting approval step. Only users of the
// coordinating organisation with the step's role, and its admins, decide
// (access.RequireApprover; apperr.Forbidden for others, after
// apperr.NotFound for an incident p does not see). The decision and who
// made it go on the timeline; a rejection is the step's failure, handled
// by its on_failure. apperr.Conflict when the step is not waiting for an
// approval.
func (s *Service) Decide(ctx context.Context, p access.Principal, idOrRef, runID, stepID string, d Decision, comment string) (*Run, error) {
	var fs apperr.Fields
	if d != Approve && d != Reject {
		fs.Add("decision", "enum", "decision must be approve or reject")
	}
	fs.Text("comment", comment, MaxComment)
	if err := fs.Err(); err != nil {
		return nil, err
	}
	var incID uuid.UUID
	err := s.inRun(ctx, p, idOrRef, runID, access.ApproveStep, func(ctx context.Context, e *exec) error {
		incID = e.inc.ID
		st, def, err := e.stepFor(stepID, playbook.ActionApproval)
		if err != nil {
			return err
		}
		if err := p.RequireApprover(e.inc.Relations, access.Role(str(def.With, "role")), stepID); err != nil {
			return err
		}
		if st.Status != Waiting || e.run.State != RunRunning {
			return apperr.New(apperr.Conflict, "step %s is not waiting for an approval (%s)", stepID, st.Status)
		}
		e.actor, e.actorID = p.Name(), p.UserIDPtr()
		decision := map[string]any{"decision": d, "by": p.Name(), "comment": comment}
		if d == Approve {
			return e.succeed(ctx, st, decision, nil)
		}
		st.Output, st.dirty = decision, true
		msg := "rejected by " + p.Name()
		if comment != "" {
			msg += ": " + comment
		}
		return e.fail(ctx, st, msg, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, p, incID.String(), runID)
}

// Answer fills in a waiting input step. answers must be valid against the
// step's JSON Schema (apperr.Invalid naming each field as answers.<name>);
// they become the step's output, on the timeline and visible to later
// conditions as steps.<id>.output. Whom the write table allows
// playbook.input answers (apperr.Forbidden otherwise, after
// apperr.NotFound): not an organisation the incident was only shared with.
func (s *Service) Answer(ctx context.Context, p access.Principal, idOrRef, runID, stepID string, answers map[string]any) (*Run, error) {
	if answers == nil {
		return nil, apperr.Fields{{Field: "answers", Rule: "required", Message: "answers is required (an object)"}}.Err()
	}
	var incID uuid.UUID
	err := s.inRun(ctx, p, idOrRef, runID, access.AnswerInput, func(ctx context.Context, e *exec) error {
		incID = e.inc.ID
		st, def, err := e.stepFor(stepID, playbook.ActionInput)
		if err != nil {
			return err
		}
		if st.Status != Waiting || e.run.State != RunRunning {
			return apperr.New(apperr.Conflict, "step %s is not waiting for an input (%s)", stepID, st.Status)
		}
		sch, err := playbook.InputSchema(def)
		if err != nil {
			return fmt.Errorf("step %s: %w", stepID, err)
		}
		if err := validateAnswers(sch, answers); err != nil {
			return err
		}
		e.actor, e.actorID = p.Name(), p.UserIDPtr()
		return e.succeed(ctx, st, answers, map[string]any{"by": p.Name()})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, p, incID.String(), runID)
}

// CheckAnswers checks answers against the input step def's schema as
// Answer does, and writes nothing: apperr.Invalid naming each field as
// answers.<name> with the rule it breaks (required, type, enum, minimum,
// maximum, min_length, max_length, pattern, unknown_field, else schema).
// A form checks what it can before it answers; Answer checks again.
func CheckAnswers(def *playbook.Step, answers map[string]any) error {
	if def == nil || def.Action != playbook.ActionInput {
		return apperr.New(apperr.Conflict, "not an input step")
	}
	sch, err := playbook.InputSchema(def)
	if err != nil {
		return fmt.Errorf("step %s: %w", def.ID, err)
	}
	return validateAnswers(sch, answers)
}

// Pinned returns the playbook a run runs: parsed from the source it
// pinned when it started (not the catalogue's current file), so that a
// page shows the prompts, schemas and roles the run's steps really have.
func (s *Service) Pinned(r *Run) (*playbook.Playbook, error) { return s.pinned(r) }

// inRun locks an incident p sees, asks the write table whether p may do
// action in its relations to the incident, loads the run and calls fn,
// then writes what fn changed.
func (s *Service) inRun(ctx context.Context, p access.Principal, idOrRef, runID string, action access.Action, fn func(ctx context.Context, e *exec) error) error {
	id, err := parseRunID(runID)
	if err != nil {
		return err
	}
	return s.store.InRunTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := lockIncident(ctx, tx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(action, inc.Relations); err != nil {
			return err
		}
		e, err := s.load(ctx, tx, inc, id)
		if err != nil {
			return err
		}
		if !p.System {
			e.actor, e.actorID = p.Name(), p.UserIDPtr()
		}
		if err := fn(ctx, e); err != nil {
			return err
		}
		return e.flush(ctx)
	})
}

// stepFor returns a step of the run that takes action.
func (e *exec) stepFor(stepID, action string) (*Step, *playbook.Step, error) {
	st := e.byID[stepID]
	if st == nil {
		return nil, nil, apperr.New(apperr.NotFound, "run %s has no step %q", e.run.ID, stepID)
	}
	if st.Action != action {
		return nil, nil, apperr.New(apperr.Conflict, "step %s is a %s step, not %s", stepID, st.Action, action)
	}
	return st, e.def(st), nil
}

func lockIncident(ctx context.Context, tx Tx, p access.Principal, idOrRef string) (*incident.Incident, error) {
	if _, err := uuid.Parse(idOrRef); err != nil && !incident.IsReference(idOrRef) {
		return nil, apperr.New(apperr.NotFound, "incident %q not found", idOrRef)
	}
	return tx.LockIncident(ctx, p, idOrRef)
}

func parseRunID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return uuid.Nil, apperr.New(apperr.NotFound, "playbook run %q not found", s)
	}
	return id, nil
}

// validateAnswers checks answers against an input step's schema and names
// every field that breaks it.
func validateAnswers(sch *jsonschema.Schema, answers map[string]any) error {
	err := sch.Validate(answers)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return apperr.Fields{{Field: "answers", Rule: "schema", Message: err.Error()}}.Err()
	}
	var fs apperr.Fields
	var walk func(v *jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) > 0 {
			for _, c := range v.Causes {
				walk(c)
			}
			return
		}
		field := strings.Join(append([]string{"answers"}, v.InstanceLocation...), ".")
		rule := "schema"
		switch k := v.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				fs.Add(field+"."+m, "required", "%s is required", m)
			}
			return
		case *kind.Type:
			rule = "type"
		case *kind.Enum:
			rule = "enum"
		case *kind.Minimum, *kind.ExclusiveMinimum:
			rule = "minimum"
		case *kind.Maximum, *kind.ExclusiveMaximum:
			rule = "maximum"
		case *kind.MinLength:
			rule = "min_length"
		case *kind.MaxLength:
			rule = "max_length"
		case *kind.Pattern:
			rule = "pattern"
		case *kind.AdditionalProperties:
			for _, m := range k.Properties {
				fs.Add(field+"."+m, "unknown_field", "%s is not a field of this form", m)
			}
			return
		}
		fs.Add(field, rule, "%s", v.ErrorKind.LocalizedString(printer))
	}
	walk(ve)
	if len(fs) == 0 {
		fs.Add("answers", "schema", "%s", ve.Error())
	}
	return fs.Err()
}
