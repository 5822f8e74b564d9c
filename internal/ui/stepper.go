package ui

import (
	"encoding/json"
	"html/template"
	"time"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
)

// lifecycleKinds are the timeline events that move an incident through
// its stages and its closing; the stage stepper is built from them (one
// query, whatever the length of the timeline).
var lifecycleKinds = []incident.EventKind{incident.EventCreated, incident.EventStageChanged, incident.EventClosed,
	incident.EventReopened}

// The states of a step of the stage stepper.
const (
	stepDone    = "done"    // reached, and the incident has moved on
	stepCurrent = "current" // where the incident is now
	stepSkipped = "skipped" // an earlier stage the incident never passed through ("not needed")
	stepNotYet  = "not_yet" // not reached
)

// stepView is one step of the stage stepper: prevention → preparation →
// response → recovery → closed.
type stepView struct {
	Key   string        // message key of its name
	State string        // stepDone, stepCurrent, stepSkipped or stepNotYet
	When  template.HTML // when the incident entered it (the last time); empty if never
}

// stepsOf builds the stepper of inc from its lifecycle events (oldest
// first): each stage with the time the incident last entered it, the
// current one marked, earlier stages never entered as skipped, later ones
// as not yet; then "closed" with its time while the incident is closed.
func stepsOf(l i18n.Locale, inc *incident.Incident, evs []incident.Event) []stepView {
	entered := map[incident.Stage]time.Time{}
	for _, ev := range evs {
		var d struct {
			Stage incident.Stage `json:"stage"`
			To    incident.Stage `json:"to"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		switch ev.Kind {
		case incident.EventCreated:
			if d.Stage != "" {
				entered[d.Stage] = ev.OccurredAt
			}
		case incident.EventStageChanged:
			if d.To != "" {
				entered[d.To] = ev.OccurredAt
			}
		}
	}
	if _, ok := entered[inc.Stage]; !ok {
		entered[inc.Stage] = inc.ReportedAt
	}
	closed := inc.Status == incident.Closed
	now := inc.Stage.Index()
	var out []stepView
	for i, s := range incident.Stages {
		v := stepView{Key: "stage." + string(s)}
		at, ok := entered[s]
		switch {
		case i == now && !closed:
			v.State = stepCurrent
		case i <= now && ok:
			v.State = stepDone
		case i < now:
			v.State = stepSkipped
		default:
			v.State = stepNotYet
		}
		if ok && v.State != stepNotYet {
			v.When = l.WhenTime(at)
		}
		out = append(out, v)
	}
	last := stepView{Key: "status.closed", State: stepNotYet}
	if closed {
		last.State = stepCurrent
		if inc.ClosedAt != nil {
			last.When = l.WhenTime(*inc.ClosedAt)
		}
	}
	return append(out, last)
}
