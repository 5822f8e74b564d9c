package ui

import (
	"net/url"
	"sort"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// timelineKinds are the timeline's filter chips by kind of event: each a
// group of event kinds, asked of the store (incident.Service.TimelineOf).
var timelineKinds = []struct {
	Key   string
	Kinds []incident.EventKind
}{
	{"pinned", []incident.EventKind{incident.EventPinned}}, // the key events someone pinned
	{"decisions", []incident.EventKind{"created", incident.EventRouted, incident.EventAcknowledged, incident.EventAssigned,
		incident.EventTeamAssigned, incident.EventStageChanged, incident.EventClosed, incident.EventReopened,
		incident.EventFieldChanged, incident.EventSummaryChanged}},
	{"notes", []incident.EventKind{incident.EventManual, "comment_added", "comment_edited", "attachment_added"}},
	{"deadlines", []incident.EventKind{incident.EventDeadlineMet, "deadline_reminder", "deadline_missed", "deadline_timer_failed",
		"legal_report_filed"}},
	{"sharing", []incident.EventKind{"escalated", "escalation_accepted", "escalation_declined", "escalation_returned",
		"escalation_cancelled", "escalation_policy_notified", incident.EventShared, incident.EventShareEnded,
		incident.EventParticipantAdded, incident.EventParticipantRemoved, "strict_circle_joined"}},
	{"work", []incident.EventKind{"task_created", "task_completed", "task_cancelled", "task_updated", "playbook_started",
		"playbook_step", "playbook_finished", "observable_added", "observable_updated", "observable_removed"}},
	{"notifications", []incident.EventKind{"notified", "notification_failed", "notification_withdrawn"}},
}

// systemOrg is the organisation filter's value for certdesk's own entries.
const systemOrg = "-"

// timelineFilter is the timeline's filter of the URL: kind (a group of
// timelineKinds) and org (an organisation's name, or systemOrg).
type timelineFilter struct {
	Kind string
	Org  string
}

// timelineFilterOf reads the filter of the incident page's URL; an unknown
// kind is no filter.
func timelineFilterOf(c echo.Context) timelineFilter {
	f := timelineFilter{Org: c.QueryParam("org")}
	for _, g := range timelineKinds {
		if g.Key == c.QueryParam("kind") {
			f.Kind = g.Key
		}
	}
	return f
}

// kinds are the event kinds the filter asks the store for (nil: all).
func (f timelineFilter) kinds() []incident.EventKind {
	for _, g := range timelineKinds {
		if g.Key == f.Kind {
			return g.Kinds
		}
	}
	return nil
}

// apply keeps the events of the filter's organisation. The organisation
// filter applies to the page of the timeline read (the store filters by
// kind only); the chips offer the organisations of that page.
func (f timelineFilter) apply(evs []incident.Event) []incident.Event {
	if f.Org == "" {
		return evs
	}
	var out []incident.Event
	for _, ev := range evs {
		if eventOrg(ev) == f.Org {
			out = append(out, ev)
		}
	}
	return out
}

func eventOrg(ev incident.Event) string {
	if ev.ActorUserID == nil {
		return systemOrg
	}
	return ev.ActorOrgName
}

// query is the filter as a query string with after (the page's cursor),
// ending in the timeline's anchor.
func (f timelineFilter) href(after string) string {
	q := url.Values{}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Org != "" {
		q.Set("org", f.Org)
	}
	if after != "" {
		q.Set("after", after)
	}
	return "?" + q.Encode() + "#timeline-title"
}

// timelineChip is one filter link.
type timelineChip struct {
	Label   string
	Href    string
	Current bool
}

// timelineFilterView is the chips above the timeline.
type timelineFilterView struct {
	Kinds    []timelineChip
	Orgs     []timelineChip
	Filtered bool
}

// view builds the chips: every kind group, and the organisations that
// acted on the page read (evs, before the organisation filter).
func (f timelineFilter) view(l i18n.Locale, evs []incident.Event) *timelineFilterView {
	v := &timelineFilterView{Filtered: f.Kind != "" || f.Org != ""}
	all := f
	all.Kind = ""
	v.Kinds = append(v.Kinds, timelineChip{Label: l.T("workbench.timeline.kind.all"), Href: all.href(""), Current: f.Kind == ""})
	for _, g := range timelineKinds {
		k := f
		k.Kind = g.Key
		v.Kinds = append(v.Kinds, timelineChip{Label: l.T("workbench.timeline.kind." + g.Key), Href: k.href(""), Current: f.Kind == g.Key})
	}
	seen := map[string]bool{}
	var orgs []string
	for _, ev := range evs {
		if o := eventOrg(ev); o != "" && !seen[o] {
			seen[o] = true
			orgs = append(orgs, o)
		}
	}
	if f.Org != "" && !seen[f.Org] {
		orgs = append(orgs, f.Org)
	}
	sort.Strings(orgs)
	everyone := f
	everyone.Org = ""
	v.Orgs = append(v.Orgs, timelineChip{Label: l.T("workbench.timeline.org.all"), Href: everyone.href(""), Current: f.Org == ""})
	for _, o := range orgs {
		k := f
		k.Org = o
		label := o
		if o == systemOrg {
			label = l.T("timeline.system")
		}
		v.Orgs = append(v.Orgs, timelineChip{Label: label, Href: k.href(""), Current: f.Org == o})
	}
	return v
}

// markPinnable offers the pin button on every entry of the days.
func markPinnable(days []timelineDay) {
	for d := range days {
		for i := range days[d].Items {
			it := &days[d].Items[i]
			if it.Entry != nil {
				it.Entry.Pinnable = true
			}
			for g := range it.Group {
				it.Group[g].Pinnable = true
			}
		}
	}
}
