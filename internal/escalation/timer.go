package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// TimerState is where a policy timer stands.
type TimerState string

// The timer states.
const (
	TimerScheduled TimerState = "scheduled" // its job is waiting for its time
	TimerFired     TimerState = "fired"     // its rule ran
	TimerCancelled TimerState = "cancelled" // acknowledged, closed, or the rule no longer matches
	TimerSkipped   TimerState = "skipped"   // it ran but could not act (see its note)
)

// Timer is one scheduled run of a policy rule for an incident: level 1
// escalates from the reporting organisation to the rule's target, level
// n+1 (repeat_up) one CERT further up from level n's target.
type Timer struct {
	ID          uuid.UUID
	IncidentID  uuid.UUID
	PolicyOrgID uuid.UUID
	RuleName    string
	Level       int
	FromOrgID   uuid.UUID
	TargetOrgID uuid.UUID
	JobID       int64
	DueAt       time.Time
	State       TimerState
	Note        string
	CreatedAt   time.Time
}

// TimerJob runs one policy timer.
type TimerJob struct {
	TimerID uuid.UUID `json:"timer_id" river:"unique"`
}

// Kind implements incident.Job.
func (TimerJob) Kind() string { return "escalation.policy" }

// Handlers are the incident.Bus handlers of escalation policies: one
// evaluates the policy when an incident is created, routed, reopened or
// changes its severity, flags or TLP; one cancels the incident's timers when
// it is acknowledged or closed. Subscribe them when wiring the app.
func (s *Service) Handlers() []incident.Handler {
	return []incident.Handler{
		{Name: "escalation policy: evaluate", Kinds: []incident.EventKind{incident.EventCreated, incident.EventRouted,
			incident.EventReopened, incident.EventFieldChanged}, Handle: s.evaluate},
		{Name: "escalation policy: stop", Kinds: []incident.EventKind{incident.EventAcknowledged, incident.EventClosed},
			Handle: s.stop},
	}
}

// policyFields are the fields whose change can make a rule match or stop
// matching; tlp because the policy does not run for TLP:RED incidents.
var policyFields = map[string]bool{"severity": true, "significant": true, "personal_data_breach": true, "tlp": true}

// redNote is why a TLP:RED incident has no policy timers: no organisation
// sees it as a whole, so escalating it to one, or telling one about it,
// reaches nobody. Its coordinating CERT's TLP:RED recipients are named
// participants instead (docs/escalation.md).
const redNote = "the incident is TLP:RED: it reaches named people, not organisations"

// rungs are the CERTs above the reporting organisation, nearest first: the
// ladder a policy climbs.
func rungs(chain []org.Organization) []org.Organization {
	var out []org.Organization
	for _, o := range chain[1:] {
		if o.Kind.IsCERT() {
			out = append(out, o)
		}
	}
	return out
}

// firstTarget resolves a rule's "to" for level 1 (resolveTarget), looking
// up an organisation named by slug.
func firstTarget(ctx context.Context, tx Tx, ladder []org.Organization, to string) (*org.Organization, error) {
	if to == ToParent || to == ToNational {
		return resolveTarget(ladder, to, nil), nil
	}
	o, err := tx.OrgBySlug(ctx, to)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return resolveTarget(ladder, to, o), nil
}

// nextRung is the CERT above target on the ladder, or nil.
func nextRung(ladder []org.Organization, target uuid.UUID) *org.Organization {
	for i := range ladder {
		if ladder[i].ID == target && i+1 < len(ladder) {
			return &ladder[i+1]
		}
	}
	return nil
}

// evaluate schedules the timers of the governing policy's matching rules
// and cancels those whose rule no longer applies, and every timer of a
// TLP:RED incident. It runs in the transaction of the change. A timer is
// due unacknowledged_for after the incident was reported, so evaluating
// again never postpones it.
func (s *Service) evaluate(ctx context.Context, itx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
	relevant := false
	for _, ev := range evs {
		if ev.Kind != incident.EventFieldChanged {
			relevant = true
			break
		}
		var d struct{ Field string }
		if json.Unmarshal(ev.Data, &d) == nil && policyFields[d.Field] {
			relevant = true
			break
		}
	}
	if !relevant {
		return nil
	}
	tx, err := etxOf(itx)
	if err != nil {
		return err
	}
	if inc.AcknowledgedAt != nil || inc.Status == incident.Closed {
		return s.cancelTimers(ctx, tx, inc.ID, "")
	}
	if inc.TLP == incident.TLPRed {
		return s.cancelTimers(ctx, tx, inc.ID, redNote)
	}
	gov, pol, err := tx.GoverningPolicy(ctx, inc.ReportingOrgID)
	if err != nil {
		return err
	}
	if gov == nil && evs[0].Kind == incident.EventCreated {
		return nil // a new incident has no timers to cancel: intake stays one query cheaper
	}
	timers, err := tx.Timers(ctx, inc.ID)
	if err != nil {
		return err
	}
	for _, t := range timers {
		if t.State != TimerScheduled {
			continue
		}
		if gov != nil && t.PolicyOrgID == gov.ID {
			if r := pol.Rule(t.RuleName); r != nil && r.When.Matches(inc) {
				continue
			}
		}
		if err := s.cancelTimer(ctx, tx, t, "the rule no longer applies to the incident"); err != nil {
			return err
		}
	}
	if gov == nil {
		return nil
	}
	chain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
	if err != nil {
		return err
	}
	ladder := rungs(chain)
	now := s.clock()
	for _, r := range pol.Rules {
		if !r.When.Matches(inc) {
			continue
		}
		started := false
		for _, t := range timers {
			if t.PolicyOrgID == gov.ID && t.RuleName == r.Name && t.Level == 1 && t.State != TimerCancelled {
				started = true
			}
		}
		if started {
			continue
		}
		target, err := firstTarget(ctx, tx, ladder, r.To)
		if err != nil {
			return err
		}
		if target == nil {
			continue
		}
		due := inc.ReportedAt.Add(r.After)
		if due.Before(now) {
			due = now
		}
		if err := s.schedule(ctx, tx, &Timer{IncidentID: inc.ID, PolicyOrgID: gov.ID, RuleName: r.Name, Level: 1,
			FromOrgID: inc.ReportingOrgID, TargetOrgID: target.ID, DueAt: due}); err != nil {
			return err
		}
	}
	return nil
}

// schedule queues a timer's job and records the timer with the job's ID.
func (s *Service) schedule(ctx context.Context, tx Tx, t *Timer) error {
	t.ID, t.State, t.CreatedAt = uuid.New(), TimerScheduled, s.clock()
	id, err := tx.EnqueueJob(ctx, TimerJob{TimerID: t.ID}, &incident.JobOpts{ScheduledAt: t.DueAt})
	if err != nil {
		return err
	}
	t.JobID = id
	return tx.InsertTimer(ctx, t)
}

func (s *Service) cancelTimer(ctx context.Context, tx Tx, t Timer, note string) error {
	if err := tx.CancelJob(ctx, t.JobID); err != nil {
		return err
	}
	return tx.SetTimerState(ctx, t.ID, TimerCancelled, note)
}

// cancelTimers cancels every scheduled timer of the incident.
func (s *Service) cancelTimers(ctx context.Context, tx Tx, incidentID uuid.UUID, note string) error {
	timers, err := tx.Timers(ctx, incidentID, TimerScheduled)
	if err != nil {
		return err
	}
	for _, t := range timers {
		if err := s.cancelTimer(ctx, tx, t, note); err != nil {
			return err
		}
	}
	return nil
}

// stop cancels the incident's timers in the transaction of its
// acknowledgement or closing.
func (s *Service) stop(ctx context.Context, itx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
	tx, err := etxOf(itx)
	if err != nil {
		return err
	}
	note := "the incident was acknowledged"
	if evs[len(evs)-1].Kind == incident.EventClosed {
		note = "the incident was closed"
	}
	return s.cancelTimers(ctx, tx, inc.ID, note)
}

// Fire runs a policy timer: inside one transaction it checks again that
// the incident is still open, unacknowledged and matched by the rule,
// escalates or notifies as the rule says (as certdesk, with the actor
// "escalation policy <org>: <rule>"), schedules the next level when the
// rule repeats up the tree, and calls complete (the worker completes its
// job there). A timer that already ran does nothing but complete, so a
// job delivered twice acts once. Errors: apperr.NotFound for an unknown
// timer; anything else is worth retrying.
func (s *Service) Fire(ctx context.Context, timerID uuid.UUID, complete func(ctx context.Context, tx incident.Tx) error) error {
	return s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.LockTimer(ctx, timerID)
		if err != nil {
			return err
		}
		if t.State != TimerScheduled {
			return complete(ctx, tx)
		}
		inc, err := tx.LockIncident(ctx, access.System, t.IncidentID.String())
		if err != nil {
			return err
		}
		state, note, err := s.fire(ctx, tx, t, inc)
		if err != nil {
			return err
		}
		if err := tx.SetTimerState(ctx, t.ID, state, note); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}

func (s *Service) fire(ctx context.Context, tx Tx, t *Timer, inc *incident.Incident) (TimerState, string, error) {
	switch {
	case inc.Status == incident.Closed:
		return TimerCancelled, "the incident was closed", nil
	case inc.AcknowledgedAt != nil:
		return TimerCancelled, "the incident was acknowledged", nil
	case inc.TLP == incident.TLPRed:
		return TimerCancelled, redNote, nil
	}
	pol, err := tx.Policy(ctx, t.PolicyOrgID)
	if err != nil {
		return "", "", err
	}
	r := pol.Rule(t.RuleName)
	if r == nil || !r.When.Matches(inc) {
		return TimerCancelled, "the rule no longer applies to the incident", nil
	}
	policyOrg, err := tx.OrgByID(ctx, t.PolicyOrgID)
	if err != nil {
		return "", "", err
	}
	from, err := tx.OrgByID(ctx, t.FromOrgID)
	if err != nil {
		return "", "", err
	}
	target, err := tx.OrgByID(ctx, t.TargetOrgID)
	if err != nil {
		return "", "", err
	}
	a := actor{name: fmt.Sprintf("escalation policy %s: %s", policyOrg.Slug, r.Name)}
	reason := fmt.Sprintf("not acknowledged within %s (level %d)", shortDuration(r.After), t.Level)
	if r.After == 0 {
		reason = fmt.Sprintf("matches escalation policy rule %s (level %d)", r.Name, t.Level)
	}
	state, note := TimerFired, ""
	switch r.Action {
	case ActionEscalate:
		open, err := tx.OpenEscalationTo(ctx, inc.ID, target.ID)
		if err != nil {
			return "", "", err
		}
		if open {
			note = "an escalation to " + target.Slug + " was already requested"
		} else if _, err := s.request(ctx, tx, a, inc, from, target, r.Kind, reason, false); err != nil {
			if !apperr.Is(err, apperr.Conflict) {
				return "", "", err
			}
			// TLP:RED, an AMBER+STRICT circle the target is outside of,
			// AMBER to a partner not shared with: the target may not see
			// the incident, so it is told nothing at all.
			state, note = TimerSkipped, err.Error()
		}
	case ActionNotify:
		// What a notify rule sends goes to an organisation as a whole:
		// only to one that sees the incident now (the escalate branch
		// skips the same way).
		sees, err := tx.OrgCanSee(ctx, target.ID, inc.ID)
		if err != nil {
			return "", "", err
		}
		if !sees {
			state, note = TimerSkipped, target.Slug+" does not see the incident: nothing was sent"
			break
		}
		data, _ := json.Marshal(map[string]any{"rule": r.Name, "policy_org": policyOrg.Slug, "to_org": target.Slug,
			"level": t.Level, "reason": reason})
		ev := &incident.Event{IncidentID: inc.ID, Actor: a.name, Kind: EventPolicyNotified, Data: data, OccurredAt: s.clock()}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return "", "", err
		}
		if err := tx.Audit(ctx, audit.Entry{Actor: a.name, Action: "escalation_policy.notified", TargetType: "incident",
			TargetID: inc.Reference, Data: data}); err != nil {
			return "", "", err
		}
		if _, err := s.notify.Queue(ctx, tx, inc, *target, "escalation-policy:"+t.ID.String(), "escalation.policy", &ev.ID,
			policyHeadline(r)); err != nil {
			return "", "", err
		}
	}
	if r.RepeatUp && r.After > 0 {
		chain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
		if err != nil {
			return "", "", err
		}
		if next := nextRung(rungs(chain), target.ID); next != nil {
			if err := s.schedule(ctx, tx, &Timer{IncidentID: inc.ID, PolicyOrgID: t.PolicyOrgID, RuleName: r.Name,
				Level: t.Level + 1, FromOrgID: target.ID, TargetOrgID: next.ID, DueAt: s.clock().Add(r.After)}); err != nil {
				return "", "", err
			}
		}
	}
	return state, note, nil
}

// policyHeadline says why a notify rule told an organisation: at once
// because the incident matches the rule ("For your information (rule
// significant-to-national)"), or because nobody acknowledged it in time.
func policyHeadline(r *Rule) string {
	if r.After == 0 {
		return fmt.Sprintf("For your information (escalation policy rule %s)", r.Name)
	}
	return "Not acknowledged within " + shortDuration(r.After)
}
