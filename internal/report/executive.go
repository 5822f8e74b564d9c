package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
)

// Executive is an incident's executive timeline, readable in two minutes:
// the executive summary, the stage stepper with the time spent in each
// stage, the legal clocks, and only the key events. The web page and the
// incident report show it.
type Executive struct {
	Incident *incident.Incident
	Now      time.Time
	// Location is the viewer's time zone: times are shown in it.
	Location *time.Location
	Stages   []Step
	Clocks   []incident.Deadline
	Key      []KeyEvent
	// TimeToAcknowledge, when acknowledged.
	TimeToAcknowledge *time.Duration
}

// Step is one stage of the stepper.
type Step struct {
	Stage   incident.Stage
	Visited bool
	Current bool
	// Spent is the time in the stage while the incident was open, up to
	// now for the stage it is in.
	Spent time.Duration
}

// KeyEvent is one line of the executive timeline.
type KeyEvent struct {
	At    time.Time
	Kind  incident.EventKind
	Actor string
	Text  string
	// Pinned: someone pinned it (it may be of any kind).
	Pinned bool
}

// KeyKinds are the events the executive timeline keeps: the life of the
// incident (reported, acknowledged, stage changes, closed, reopened),
// escalations between organisations, legal deadline reports and misses,
// and changes of the executive summary. The events someone pinned are key
// events too, whatever their kind (IsKey).
var KeyKinds = []incident.EventKind{incident.EventCreated, incident.EventAcknowledged, incident.EventStageChanged,
	incident.EventClosed, incident.EventReopened, "escalated", "escalation_accepted", "escalation_declined",
	"escalation_returned", incident.EventDeadlineMet, "deadline_missed", incident.EventSummaryChanged}

// IsKey reports whether the executive timeline keeps the event: one of
// KeyKinds, or pinned.
func IsKey(ev incident.Event) bool { return ev.Pinned || slices.Contains(KeyKinds, ev.Kind) }

// KeyEvents reads the key events of an incident p has just read, in
// timeline order (at most 5,000, which no executive reads to the end).
func KeyEvents(ctx context.Context, incidents *incident.Service, p access.Principal, inc *incident.Incident) ([]incident.Event, error) {
	var events []incident.Event
	page := incident.Page{Limit: incident.MaxLimit}
	kinds := append(slices.Clone(KeyKinds), incident.EventPinned)
	for {
		evs, next, err := incidents.TimelineOf(ctx, p, inc, kinds, page)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
		if next == "" || len(events) >= 5000 {
			return events, nil
		}
		page.After = next
	}
}

// NewExecutive builds the executive timeline from the incident and its
// events of KeyKinds (in timeline order).
func NewExecutive(inc *incident.Incident, events []incident.Event, now time.Time, viewer *time.Location) *Executive {
	if viewer == nil {
		viewer = time.UTC
	}
	e := &Executive{Incident: inc, Now: now, Location: viewer}
	var stageEvents []incident.Event
	for _, ev := range events {
		if slices.Contains(stats.StageEventKinds, ev.Kind) {
			stageEvents = append(stageEvents, ev)
		}
	}
	// The facts' walk through the stages, then the stage it is in up to now.
	f := stats.ComputeFacts(stats.Source{Incident: inc, StageEvents: stageEvents})
	spent := f.StageSeconds
	if inc.Status == incident.Open {
		since := inc.ReportedAt
		for _, ev := range stageEvents {
			if ev.Kind == incident.EventStageChanged || ev.Kind == incident.EventReopened {
				since = ev.OccurredAt
			}
		}
		if i := inc.Stage.Index(); i >= 0 && now.After(since) {
			spent[i] += int64(now.Sub(since) / time.Second)
		}
	}
	visited := map[incident.Stage]bool{inc.Stage: true}
	for _, ev := range stageEvents {
		var d struct{ Stage, From, To incident.Stage }
		_ = json.Unmarshal(ev.Data, &d)
		for _, s := range []incident.Stage{d.Stage, d.From, d.To} {
			if s.Valid() {
				visited[s] = true
			}
		}
	}
	for i, s := range incident.Stages {
		e.Stages = append(e.Stages, Step{Stage: s, Visited: visited[s] || spent[i] > 0, Current: s == inc.Stage && inc.Status == incident.Open,
			Spent: time.Duration(spent[i]) * time.Second})
	}
	loc, err := time.LoadLocation(inc.ReportingOrgTimeZone)
	if err != nil {
		loc = time.UTC
	}
	e.Clocks = inc.Deadlines(loc, now)
	if inc.AcknowledgedAt != nil {
		d := inc.AcknowledgedAt.Sub(inc.ReportedAt)
		e.TimeToAcknowledge = &d
	}
	for _, ev := range events {
		if !IsKey(ev) {
			continue
		}
		e.Key = append(e.Key, KeyEvent{At: ev.OccurredAt, Kind: ev.Kind, Actor: ev.Actor, Text: eventText(ev), Pinned: ev.Pinned})
	}
	return e
}

// eventText says what a key event means, in a line.
func eventText(ev incident.Event) string {
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	s := func(k string) string {
		v, _ := d[k].(string)
		return v
	}
	with := func(base, reason string) string {
		if strings.TrimSpace(reason) == "" {
			return base
		}
		return base + ": " + reason
	}
	switch ev.Kind {
	case incident.EventCreated:
		return fmt.Sprintf("Reported by %s (%s, %s, %s)", s("reporting_org"), s("severity"), s("stage"), s("tlp"))
	case incident.EventAcknowledged:
		if s("org") == "" {
			return "Acknowledged"
		}
		return "Acknowledged by " + s("org")
	case incident.EventStageChanged:
		return with(fmt.Sprintf("Stage %s → %s", s("from"), s("to")), s("reason"))
	case incident.EventClosed:
		return with("Closed", s("resolution"))
	case incident.EventReopened:
		return with("Reopened", s("reason"))
	case "escalated":
		return with(fmt.Sprintf("Escalated from %s to %s (%s)", s("from_org"), s("to_org"), s("kind")), s("reason"))
	case "escalation_accepted":
		return with(fmt.Sprintf("%s accepted the escalation from %s", s("to_org"), s("from_org")), s("reason"))
	case "escalation_declined":
		return with(fmt.Sprintf("%s declined the escalation from %s", s("to_org"), s("from_org")), s("reason"))
	case "escalation_returned":
		return with(fmt.Sprintf("%s returned the incident to %s", s("to_org"), s("from_org")), s("reason"))
	case incident.EventDeadlineMet:
		return with(DeadlineLabel(incident.DeadlineKind(s("kind")))+" sent", s("reference"))
	case "deadline_missed":
		return DeadlineLabel(incident.DeadlineKind(s("kind"))) + " missed"
	case incident.EventSummaryChanged:
		var parts []string
		for _, k := range []string{"status", "impact", "next_steps"} {
			if _, ok := d[k]; ok {
				parts = append(parts, strings.ReplaceAll(k, "_", " "))
			}
		}
		return "Executive summary updated (" + strings.Join(parts, ", ") + ")"
	case incident.EventManual:
		return s("summary")
	}
	// A pinned event of another kind: the kind in words, with what it says.
	text := strings.ReplaceAll(string(ev.Kind), "_", " ")
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	for _, k := range []string{"summary", "title", "reason", "note", "resolution"} {
		if s(k) != "" {
			return with(text, s(k))
		}
	}
	return text
}

// DeadlineLabel names a legal deadline with its law.
func DeadlineLabel(k incident.DeadlineKind) string {
	switch k {
	case incident.NIS2EarlyWarning:
		return "NIS2 early warning"
	case incident.NIS2Notification:
		return "NIS2 incident notification"
	case incident.NIS2FinalReport:
		return "NIS2 final report"
	case incident.GDPRNotification:
		return "GDPR notification"
	}
	return string(k)
}
