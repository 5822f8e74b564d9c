package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/task"
)

// EventEscalated is the timeline event kind of an escalation request; it
// triggers incident.escalated.
const EventEscalated = escalation.EventEscalated

// triggerOf maps timeline event kinds to the trigger events they fire.
var triggerOf = map[incident.EventKind]string{
	incident.EventCreated:      "incident.created",
	incident.EventStageChanged: "incident.stage_changed",
	incident.EventFieldChanged: "incident.updated",
	incident.EventAssigned:     "incident.updated",
	EventEscalated:             "incident.escalated",
}

// Handler is the incident.Bus handler of the engine: inside the
// transaction of an incident change it starts the runs the change
// triggers, and resumes the steps waiting for it (acknowledgement, a
// stage reached, a task done), cancelling their timeout jobs.
func (s *Service) Handler() incident.Handler {
	return incident.Handler{
		Name: "playbook runs",
		Kinds: []incident.EventKind{incident.EventCreated, incident.EventStageChanged, incident.EventFieldChanged,
			incident.EventAssigned, EventEscalated, incident.EventAcknowledged, task.EventCompleted},
		Handle: s.onEvents,
	}
}

func (s *Service) onEvents(ctx context.Context, itx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
	tx, ok := itx.(Tx)
	if !ok {
		return fmt.Errorf("runbook: %T does not implement runbook.Tx", itx)
	}
	if err := s.resume(ctx, tx, inc, evs); err != nil {
		return err
	}
	var fired []string
	for _, ev := range evs {
		if t, ok := triggerOf[ev.Kind]; ok && !slices.Contains(fired, t) {
			fired = append(fired, t)
		}
	}
	if len(fired) == 0 {
		return nil
	}
	env := playbook.NewEnv(*inc)
	for _, pb := range s.catalogue() {
		for _, t := range fired {
			if !pb.Triggered(ctx, t, env) {
				continue
			}
			if _, err := s.start(ctx, tx, inc, pb, t, access.System); err != nil {
				return fmt.Errorf("start playbook %s: %w", pb.ID, err)
			}
			break
		}
	}
	return nil
}

// resume finishes the waiting steps of the incident's runs that evs
// satisfy.
func (s *Service) resume(ctx context.Context, tx Tx, inc *incident.Incident, evs []incident.Event) error {
	var relevant []incident.Event
	for _, ev := range evs {
		if ev.Kind == incident.EventAcknowledged || ev.Kind == incident.EventStageChanged || ev.Kind == task.EventCompleted {
			relevant = append(relevant, ev)
		}
	}
	if len(relevant) == 0 {
		return nil
	}
	runs, err := tx.WaitingRuns(ctx, inc.ID)
	if err != nil || len(runs) == 0 {
		return err
	}
	for _, id := range runs {
		e, err := s.load(ctx, tx, inc, id)
		if err != nil {
			return err
		}
		for i := range e.run.Steps {
			st := &e.run.Steps[i]
			if st.Status != Waiting {
				continue
			}
			for _, ev := range relevant {
				if !e.satisfies(st.WaitingFor, ev) {
					continue
				}
				if err := e.succeed(ctx, st, map[string]any{"waited": st.WaitingFor, "event_id": ev.ID},
					map[string]any{"resumed_by": ev.Kind}); err != nil {
					return err
				}
				break
			}
		}
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// satisfies reports whether ev is what a wait for what waits for.
func (e *exec) satisfies(what string, ev incident.Event) bool {
	switch {
	case what == playbook.WaitAcknowledgement:
		return ev.Kind == incident.EventAcknowledged
	case strings.HasPrefix(what, playbook.WaitStagePrefix):
		if ev.Kind != incident.EventStageChanged {
			return false
		}
		var d struct{ To string }
		_ = json.Unmarshal(ev.Data, &d)
		return d.To == strings.TrimPrefix(what, playbook.WaitStagePrefix)
	case strings.HasPrefix(what, playbook.WaitTaskDonePrefix):
		if ev.Kind != task.EventCompleted {
			return false
		}
		id, ok := e.taskOf(strings.TrimPrefix(what, playbook.WaitTaskDonePrefix))
		if !ok {
			return false
		}
		var d struct {
			TaskID string `json:"task_id"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		return d.TaskID == id.String()
	}
	return false
}
