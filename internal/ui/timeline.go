package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"time"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
)

// timelineItem is one line of the timeline: an entry, or a run of
// routine automatic entries (playbook steps, tasks a playbook created,
// notifications sent) folded into one <details> that opens without
// JavaScript.
type timelineItem struct {
	Entry *entryView
	Group []entryView
}

// notable are the kinds of automatic entries that always show on their
// own: they change who handles the incident or warn about a deadline.
var notable = map[incident.EventKind]bool{
	incident.EventRouted: true, "deadline_reminder": true, "deadline_missed": true, "deadline_timer_failed": true,
	"notification_failed": true, "escalation_policy_notified": true, "escalated": true, "escalation_accepted": true,
	"escalation_declined": true, "escalation_returned": true, incident.EventStageChanged: true, incident.EventClosed: true,
	incident.EventReopened: true, incident.EventAcknowledged: true, incident.EventShareEnded: true,
	incident.EventParticipantRemoved: true, "strict_circle_joined": true, "escalation_cancelled": true,
}

// timelineDay is one day of the timeline, in the reader's time zone: its
// heading ("Today", "Yesterday", a date) and its entries.
type timelineDay struct {
	Heading string
	Items   []timelineItem
}

// timelineDays describes the events (oldest first) as a story: grouped by
// day in the reader's time zone, every run of two or more routine
// automatic entries of a day folded into a group.
func (u *UI) timelineDays(l i18n.Locale, evs []incident.Event) []timelineDay {
	var out []timelineDay
	start := 0
	for i := range evs {
		if i+1 < len(evs) && l.Day(evs[i+1].OccurredAt) == l.Day(evs[i].OccurredAt) {
			continue
		}
		out = append(out, timelineDay{Heading: l.Day(evs[i].OccurredAt), Items: u.timelineItems(l, evs[start:i+1])})
		start = i + 1
	}
	return out
}

// timelineItems describes the events and folds every run of two or more
// routine automatic entries into a group.
func (u *UI) timelineItems(l i18n.Locale, evs []incident.Event) []timelineItem {
	var out []timelineItem
	var run []entryView
	flush := func() {
		switch len(run) {
		case 0:
		case 1:
			out = append(out, timelineItem{Entry: &run[0]})
		default:
			out = append(out, timelineItem{Group: run})
		}
		run = nil
	}
	for _, ev := range evs {
		v := u.describe(l, ev)
		if v.System && !notable[ev.Kind] {
			run = append(run, v)
			continue
		}
		flush()
		out = append(out, timelineItem{Entry: &v})
	}
	flush()
	return out
}

// entryView is one timeline entry as pages show it: who, of which
// organisation, what, and when.
type entryView struct {
	Who    string
	Org    string
	What   string
	Detail string        // the entry's own words (a reason, a note), when it has them
	When   template.HTML // the time of day (the day is the heading above)
	// Recorded is when certdesk recorded the entry, where that differs
	// from when it happened (an entry written later about the past).
	Recorded template.HTML
	// ID and Pinned: the event, and whether it is pinned as a key event;
	// Pinnable: the page offers to pin it or take the pin off.
	ID       int64
	Pinned   bool
	Pinnable bool
	System   bool // done by certdesk itself (routing, reminders, playbooks)
}

// describe says what a timeline event was, in the reader's language:
// "event.<kind>" from the catalogue, with the event's details where the
// message has room for them; a kind without a message is "event.other".
func (u *UI) describe(l i18n.Locale, ev incident.Event) entryView {
	v := entryView{When: l.ClockTime(ev.OccurredAt), ID: ev.ID, Pinned: ev.Pinned}
	if d := ev.RecordedAt.Sub(ev.OccurredAt); !ev.RecordedAt.IsZero() && (d > time.Minute || d < -time.Minute) {
		v.Recorded = l.Time(ev.RecordedAt)
	}
	if ev.ActorUserID == nil {
		v.Who, v.System = l.T("timeline.system"), true
	} else {
		v.Who, v.Org = ev.ActorName, ev.ActorOrgName
		if v.Who == "" {
			v.Who = ev.Actor
		}
	}
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	str := func(k string) string {
		if s, ok := d[k].(string); ok {
			return s
		}
		return ""
	}
	// label translates a value of a known set (stage, deadline kind),
	// keeping the raw value when the catalogue has no word for it.
	label := func(prefix, val string) string {
		if u.o.Catalogue.Has(prefix + val) {
			return l.T(prefix + val)
		}
		return val
	}
	key := "event." + string(ev.Kind)
	switch ev.Kind {
	case incident.EventRouted:
		v.What = l.T(key, str("coordinating_org_name"))
	case incident.EventStageChanged:
		v.What, v.Detail = l.T(key, label("stage.", str("from")), label("stage.", str("to"))), str("reason")
	case incident.EventManual:
		v.What, v.Detail = l.T(key), str("summary")
	case incident.EventClosed:
		v.What, v.Detail = l.T(key), str("resolution")
	case incident.EventReopened:
		v.What, v.Detail = l.T(key), str("reason")
	case incident.EventFieldChanged:
		v.What = l.T(key, label("fieldname.", str("field")))
	case incident.EventAssigned:
		if who := str("new"); who != "" {
			v.What = l.T(key, who)
		} else {
			v.What = l.T("event.unassigned")
		}
	case incident.EventTeamAssigned:
		if team := str("new"); team != "" {
			v.What = l.T(key, team)
		} else {
			v.What = l.T("event.team_unassigned")
		}
	case incident.EventShared:
		v.What, v.Detail = l.T(key, str("org_name")), str("note")
	case "comment_added", "comment_edited":
		v.What, v.Detail = l.T(key), str("excerpt")
	case "attachment_added":
		v.What, v.Detail = l.T(key), str("filename")
	case incident.EventParticipantAdded:
		v.What = l.T(key, str("user"))
	case incident.EventShareEnded:
		v.What, v.Detail = l.T(key, str("org_name")), str("reason")
	case incident.EventParticipantRemoved:
		v.What, v.Detail = l.T(key, str("user")), str("reason")
	case "strict_circle_joined":
		v.What, v.Detail = l.T(key, str("org_name")), str("reason")
	case "escalation_cancelled":
		v.What, v.Detail = l.T(key), str("reason")
	case "escalated", "escalation_accepted", "escalation_declined", "escalation_returned":
		v.What, v.Detail = l.T(key), escalationDetail(l, str) // escalation_history.go
	case "incident_linked", "incident_unlinked": // links.go: the other incident is never named
		v.What = l.T(key, label("links.kind.", str("kind")+"."+str("direction")))
	case "merged_into":
		v.What = l.T(key, str("survivor"))
	case "playbook_started":
		v.What = l.T(key, str("name"))
	case "playbook_step":
		v.What = l.T(key, str("step"))
	case "task_created", "task_completed", "task_cancelled", "task_updated":
		v.What = l.T(key, str("title"))
	case incident.EventDeadlineMet, "deadline_reminder", "deadline_missed", "deadline_timer_failed":
		v.What = l.T(key, label("deadline.", str("kind")))
	default:
		if u.o.Catalogue.Has(key) {
			v.What = l.T(key)
		} else {
			v.What = l.T("event.other", fmt.Sprint(ev.Kind))
		}
	}
	return v
}
