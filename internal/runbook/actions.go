package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
)

// ErrWebhookNotConfigured is the error of a webhook step when certdesk has
// no outbound client or no signing secret (CERTDESK_WEBHOOK_SECRET).
var ErrWebhookNotConfigured = errors.New("webhook delivery is not configured")

// act runs one attempt of a step's action. Effects happen in the
// transaction; an error is an *actionError, which rolls them back.
func (e *exec) act(ctx context.Context, st *Step) error {
	d := e.def(st)
	var err error
	switch d.Action {
	case playbook.ActionTaskCreate:
		err = e.taskCreate(ctx, st, d)
	case playbook.ActionSet:
		err = e.set(ctx, st, d)
	case playbook.ActionNotify:
		err = e.notifyOrg(ctx, st, d)
	case playbook.ActionEscalate:
		err = e.escalate(ctx, st, d)
	case playbook.ActionWait:
		err = e.waitFor(ctx, st, d)
	case playbook.ActionApproval:
		role, _ := d.With["role"].(string)
		prompt, _ := d.With["prompt"].(string)
		return e.wait(ctx, st, "approval:"+role, d.Timeout, map[string]any{"prompt": prompt, "role": role})
	case playbook.ActionInput:
		prompt, _ := d.With["prompt"].(string)
		return e.wait(ctx, st, "input", d.Timeout, map[string]any{"prompt": prompt})
	case playbook.ActionWebhook:
		return e.sendWebhook(ctx, st)
	default:
		err = fmt.Errorf("unknown action %q", d.Action)
	}
	if errors.Is(err, errNotRouted) {
		// Routing is a job of its own that runs right after the report: the
		// step's job is retried by River without using a step attempt.
		return err
	}
	if err != nil {
		return &actionError{err: err}
	}
	return nil
}

// errNotRouted: the incident has no coordinating organisation yet.
var errNotRouted = errors.New("no coordinating organisation yet (routing pending)")

func str(with map[string]any, key string) string {
	v, _ := with[key].(string)
	return v
}

// taskCreate creates the task, in the step's transaction.
func (e *exec) taskCreate(ctx context.Context, st *Step, d *playbook.Step) error {
	in := task.NewTask{Title: str(d.With, "title"), Description: str(d.With, "description")}
	if due := str(d.With, "due"); due != "" {
		dd, err := playbook.ParseDuration(due)
		if err != nil {
			return err
		}
		at := e.now.Add(dd)
		in.DueAt = &at
	}
	t, err := e.s.tasks.CreateOnIncident(ctx, eventsToFlush{Tx: e.tx, e: e}, access.System, e.inc, in)
	if err != nil {
		return err
	}
	out := map[string]any{"task_id": t.ID.String(), "title": t.Title}
	if role := str(d.With, "assignee_role"); role != "" {
		out["assignee_role"] = role
	}
	return e.succeed(ctx, st, out, nil)
}

// eventsToFlush is the step's transaction as the task service sees it:
// the task's timeline event joins the step's own, which flush writes with
// the step's changes in one statement (and then sets its ID). Only for
// callers that do not read an event's ID back.
type eventsToFlush struct {
	Tx
	e *exec
}

// AppendEvent implements task.Tx.
func (t eventsToFlush) AppendEvent(_ context.Context, ev *incident.Event) error {
	t.e.events = append(t.e.events, ev)
	return nil
}

// set changes the incident through the incident service's change path, as
// the system, with the playbook as actor.
func (e *exec) set(ctx context.Context, st *Step, d *playbook.Step) error {
	var patch incident.Patch
	changed := []string{}
	if v := str(d.With, "severity"); v != "" {
		sev := incident.Severity(v)
		patch.Severity = &sev
		changed = append(changed, "severity")
	}
	if tags, ok := d.With["tags"].([]any); ok {
		all := slices.Clone(e.inc.Tags)
		for _, t := range tags {
			if s, ok := t.(string); ok && !slices.Contains(all, strings.ToLower(s)) {
				all = append(all, s)
			}
		}
		patch.Tags = &all
		changed = append(changed, "tags")
	}
	if flags, ok := d.With["flags"].(map[string]any); ok {
		if v, ok := flags["personal_data_breach"].(bool); ok {
			patch.PersonalDataBreach = &v
		}
		if v, ok := flags["significant"].(bool); ok {
			patch.Significant = &v
		}
		changed = append(changed, "flags")
	}
	if v, ok := d.With["assignee"].(string); ok {
		patch.Assignee = &v
		changed = append(changed, "assignee")
	}
	inc, err := e.s.incidents.UpdateInTx(ctx, e.tx, access.System, e.actor, e.inc.ID.String(), patch)
	if err != nil {
		return err
	}
	if stage := incident.Stage(str(d.With, "stage")); stage != "" && stage != inc.Stage {
		inc, err = e.s.incidents.TransitionInTx(ctx, e.tx, access.System, e.actor, e.inc.ID.String(), stage,
			fmt.Sprintf("set by playbook %s, step %s", e.run.PlaybookID, st.ID))
		if err != nil {
			return err
		}
		changed = append(changed, "stage")
	}
	e.inc = inc
	return e.succeed(ctx, st, map[string]any{"changed": changed}, nil)
}

// recipient resolves a notify or escalate target: reporting_org,
// coordinating_org, parent (the CERT above the coordinating organisation)
// or an organisation slug.
func (e *exec) recipient(ctx context.Context, to string) (*org.Organization, error) {
	switch to {
	case playbook.ToReportingOrg:
		chain, err := e.tx.OrgChain(ctx, e.inc.ReportingOrgID)
		if err != nil {
			return nil, err
		}
		return &chain[0], nil
	case playbook.ToCoordinatingOrg, playbook.ToParent:
		if e.inc.CoordinatingOrgID == nil {
			return nil, fmt.Errorf("incident %s: %w", e.inc.Reference, errNotRouted)
		}
		chain, err := e.tx.OrgChain(ctx, *e.inc.CoordinatingOrgID)
		if err != nil {
			return nil, err
		}
		if to == playbook.ToCoordinatingOrg {
			return &chain[0], nil
		}
		for i := 1; i < len(chain); i++ {
			if chain[i].Kind.IsCERT() {
				return &chain[i], nil
			}
		}
		return nil, fmt.Errorf("there is no CERT above %s", chain[0].Slug)
	}
	o, err := e.tx.OrgBySlug(ctx, to)
	if apperr.Is(err, apperr.NotFound) {
		return nil, fmt.Errorf("there is no organisation %q", to)
	}
	return o, err
}

// notifyOrg records a notification intent in the outbox; the outbox
// delivers it. The event key is unique per (run, step), so the intent is
// recorded once.
func (e *exec) notifyOrg(ctx context.Context, st *Step, d *playbook.Step) error {
	to, tmpl := str(d.With, "to"), str(d.With, "template")
	o, err := e.recipient(ctx, to)
	if err != nil {
		return err
	}
	key := "playbook:" + e.run.ID.String() + ":" + st.ID
	n, err := e.s.notify.QueueTemplate(ctx, e.tx, e.inc, *o, key, "playbook."+tmpl, nil, tmpl)
	if err != nil {
		return err
	}
	out := map[string]any{"recipient": o.Slug, "template": tmpl}
	if n != nil {
		out["notification_id"] = n.ID.String()
	} else if sees, err := e.tx.OrgCanSee(ctx, o.ID, e.inc.ID); err != nil {
		return err
	} else if !sees {
		// The outbox addresses only organisations that see the incident.
		out["not_sent"] = o.Slug + " does not see the incident"
	}
	return e.succeed(ctx, st, out, nil)
}

// escalate asks the Escalator, in the step's transaction.
func (e *exec) escalate(ctx context.Context, st *Step, d *playbook.Step) error {
	esc := e.s.getEscalator()
	if esc == nil {
		return errors.New("escalation is not configured: certdesk has no escalation service for playbooks")
	}
	to, kind, reason := str(d.With, "to"), str(d.With, "kind"), str(d.With, "reason")
	if kind == "" {
		kind = "coordinate"
	}
	id, err := esc.EscalateForPlaybook(ctx, e.tx, e.inc, to, kind, reason)
	if err != nil {
		return err
	}
	return e.succeed(ctx, st, map[string]any{"escalation_id": id, "to": to, "kind": kind}, nil)
}

// waitFor starts a wait: for a duration, or for an event (done at once
// when it already happened).
func (e *exec) waitFor(ctx context.Context, st *Step, d *playbook.Step) error {
	what := str(d.With, "for")
	if dur, err := playbook.ParseDuration(what); err == nil {
		return e.sleep(ctx, st, dur, what)
	}
	happened, err := e.happened(ctx, what)
	if err != nil {
		return err
	}
	if happened {
		return e.succeed(ctx, st, map[string]any{"waited": what, "already": true}, nil)
	}
	timeout := d.Timeout
	if t := str(d.With, "timeout"); t != "" {
		if timeout, err = playbook.ParseDuration(t); err != nil {
			return err
		}
	}
	return e.wait(ctx, st, what, timeout, nil)
}

// happened reports whether the event a wait is for has already happened.
func (e *exec) happened(ctx context.Context, what string) (bool, error) {
	switch {
	case what == playbook.WaitAcknowledgement:
		return e.inc.AcknowledgedAt != nil, nil
	case strings.HasPrefix(what, playbook.WaitStagePrefix):
		return string(e.inc.Stage) == strings.TrimPrefix(what, playbook.WaitStagePrefix), nil
	case strings.HasPrefix(what, playbook.WaitTaskDonePrefix):
		id, ok := e.taskOf(strings.TrimPrefix(what, playbook.WaitTaskDonePrefix))
		if !ok {
			return false, nil
		}
		t, err := e.tx.LockTask(ctx, e.inc.ID, id)
		if apperr.Is(err, apperr.NotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return t.Status == task.Done, nil
	}
	return false, nil
}

// taskOf returns the task a task.create step of the run created.
func (e *exec) taskOf(stepID string) (uuid.UUID, bool) {
	st := e.byID[stepID]
	if st == nil || st.Status != Succeeded {
		return uuid.Nil, false
	}
	s, _ := st.Output["task_id"].(string)
	id, err := uuid.Parse(s)
	return id, err == nil
}

// hookResult is what a webhook step's request got.
type hookResult struct {
	status int
	err    error
}

// errPeek rolls back the transaction that only looked at a step.
var errPeek = errors.New("runbook: peek")

// webhook sends the request of a webhook attempt before the attempt's
// transaction, so that no lock is held while a receiver answers: it checks
// in a read-only transaction that the job may act, then posts. A crash
// between the request and the attempt's commit sends the request again
// (webhooks are delivered at least once; every attempt of a step carries
// the same Idempotency-Key, run and step, so receivers can drop repeats;
// the body's "delivery" also names the attempt). nil for other jobs.
func (s *Service) webhook(ctx context.Context, jobID int64, job StepJob) (*hookResult, error) {
	if job.Purpose != PurposeRun || job.Action != playbook.ActionWebhook {
		return nil, nil
	}
	var url, key string
	var body []byte
	var timeout time.Duration
	err := s.store.InRunTx(ctx, func(ctx context.Context, tx Tx) error {
		e, st, ok, err := s.claim(ctx, tx, jobID, job)
		if err != nil || !ok {
			return err
		}
		d := e.def(st)
		// The key names the step of the run, not the attempt: a retry
		// (the receiver failed, or a worker died after the call) carries
		// the same key, so the receiver can drop what it already did.
		url, timeout, key = str(d.With, "url"), d.Timeout, fmt.Sprintf("%s:%s", e.run.ID, st.ID)
		payload := map[string]any{"delivery": fmt.Sprintf("%s:%s:%d", e.run.ID, st.ID, job.Attempt), "playbook": e.run.PlaybookID,
			"version": e.run.Version, "run_id": e.run.ID, "step": st.ID, "incident": e.inc.Reference}
		if b, ok := d.With["body"]; ok {
			payload["body"] = b
		}
		if body, err = json.Marshal(payload); err != nil {
			return fmt.Errorf("step %s: webhook body: %w", st.ID, err)
		}
		return errPeek
	})
	if err != nil && !errors.Is(err, errPeek) {
		return nil, err
	}
	if url == "" {
		return nil, nil // the job may not act: the attempt's transaction says so
	}
	if s.outbound == nil || s.secret == "" {
		return &hookResult{err: fmt.Errorf("%w: set CERTDESK_WEBHOOK_SECRET", ErrWebhookNotConfigured)}, nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	resp, err := s.outbound.PostJSON(ctx, url, body, s.secret, key)
	if err != nil {
		return &hookResult{err: err}, nil
	}
	return &hookResult{status: resp.StatusCode}, nil
}

// sendWebhook turns the request's result into the step's outcome.
func (e *exec) sendWebhook(ctx context.Context, st *Step) error {
	h := e.hook
	if h == nil {
		return &actionError{err: errors.New("the webhook request was not sent"), permanent: false}
	}
	if h.err != nil {
		return &actionError{err: h.err, permanent: errors.Is(h.err, ErrWebhookNotConfigured) || outbound.IsPermanent(h.err)}
	}
	return e.succeed(ctx, st, map[string]any{"status": h.status}, nil)
}
